// Privilege drop for a daemon started as root by hand (not by systemd): once
// it holds what only root could open (the capture), it becomes an ordinary
// user that keeps just the capabilities it still needs, and proves it did.
#pragma once

#include <cstdint>
#include <string>

#include "ipattrib/status.h"

namespace ipattrib {

struct RunAsUser {
  std::string user;             // "" = keep running as started
  std::string group;            // "" = the user's primary group
  bool keep_net_admin = false;  // CAP_NET_ADMIN besides CAP_NET_RAW
};

// The credentials the kernel reports in /proc/<pid>/status.
struct ProcessCredentials {
  std::uint32_t real_uid = 0, effective_uid = 0, saved_uid = 0;
  std::uint32_t real_gid = 0, effective_gid = 0, saved_gid = 0;
  std::uint64_t cap_effective = 0, cap_permitted = 0, cap_ambient = 0, cap_bounding = 0;
  bool no_new_privs = false;
};

Status read_process_credentials(const std::string& status_path, ProcessCredentials& out);

// The capability mask (bit per CAP_*) the agent keeps after dropping.
std::uint64_t kept_capability_mask(const RunAsUser& target);

// When running as root and target.user is set: limits the capability
// bounding set, switches group, supplementary groups and user, keeps only
// CAP_NET_RAW (+CAP_NET_ADMIN) permitted and effective, sets no_new_privs,
// then re-reads /proc/self/status and fails unless the kernel agrees. Call before starting any thread: capabilities are
// per thread. Not root (e.g. systemd's User= already applied) or no user: does nothing. `done` says in one line what
// happened, for the log.
Status drop_privileges(const RunAsUser& target, std::string& done);

}  // namespace ipattrib
