#include "common/privilege/privilege_drop.h"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

namespace ipattrib {
namespace {

Status errno_error(const std::string& what) { return Status::error(fmt::format("{}: {}", what, std::strerror(errno))); }

bool parse_ids(const std::string& rest, std::uint32_t& real, std::uint32_t& effective, std::uint32_t& saved) {
  std::istringstream in(rest);
  return static_cast<bool>(in >> real >> effective >> saved);
}

bool parse_mask(const std::string& rest, std::uint64_t& mask) {
  std::istringstream in(rest);
  return static_cast<bool>(in >> std::hex >> mask);
}

Status resolve(const RunAsUser& target, uid_t& uid, gid_t& gid) {
  const passwd* pw = getpwnam(target.user.c_str());
  if (pw == nullptr) return Status::error(fmt::format("user '{}' does not exist", target.user));
  uid = pw->pw_uid;
  gid = pw->pw_gid;
  if (!target.group.empty()) {
    const group* gr = getgrnam(target.group.c_str());
    if (gr == nullptr) return Status::error(fmt::format("group '{}' does not exist", target.group));
    gid = gr->gr_gid;
  }
  if (uid == 0) return Status::error(fmt::format("user '{}' is root: nothing would be dropped", target.user));
  return Status::ok();
}

Status keep_only(std::uint64_t mask) {
  std::vector<cap_value_t> kept;
  for (cap_value_t c = 0; c < 64; ++c) {
    if (mask & (std::uint64_t{1} << c)) kept.push_back(c);
  }
  std::unique_ptr<std::remove_pointer_t<cap_t>, int (*)(void*)> caps(cap_init(), cap_free);
  if (!caps) return errno_error("cap_init");
  if (!kept.empty() &&
      (cap_set_flag(caps.get(), CAP_PERMITTED, static_cast<int>(kept.size()), kept.data(), CAP_SET) != 0 ||
       cap_set_flag(caps.get(), CAP_EFFECTIVE, static_cast<int>(kept.size()), kept.data(), CAP_SET) != 0)) {
    return errno_error("cap_set_flag");
  }
  if (cap_set_proc(caps.get()) != 0) return errno_error("cap_set_proc");
  return Status::ok();
}

// Needs CAP_SETPCAP in the effective set, so it runs before setresuid.
Status limit_bounding_set(std::uint64_t mask) {
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) {
    if ((mask & (std::uint64_t{1} << c)) == 0 && CAP_IS_SUPPORTED(c) && cap_drop_bound(c) != 0) {
      return errno_error(fmt::format("cap_drop_bound({})", c));
    }
  }
  return Status::ok();
}

// Trusts nothing it did above: only what the kernel now reports counts.
Status verify(uid_t uid, gid_t gid, std::uint64_t mask) {
  ProcessCredentials now;
  if (Status s = read_process_credentials("/proc/self/status", now); !s) return s;
  if (now.real_uid != uid || now.effective_uid != uid || now.saved_uid != uid) {
    return Status::error(
        fmt::format("still uid {}/{}/{} after switching to {}", now.real_uid, now.effective_uid, now.saved_uid, uid));
  }
  if (now.real_gid != gid || now.effective_gid != gid || now.saved_gid != gid) {
    return Status::error(
        fmt::format("still gid {}/{}/{} after switching to {}", now.real_gid, now.effective_gid, now.saved_gid, gid));
  }
  if (now.cap_effective != mask || now.cap_permitted != mask || now.cap_ambient != 0 ||
      (now.cap_bounding & ~mask) != 0) {
    return Status::error(
        fmt::format("capabilities CapEff={:016x} CapPrm={:016x} CapAmb={:016x} CapBnd={:016x}, expected {:016x}",
                    now.cap_effective, now.cap_permitted, now.cap_ambient, now.cap_bounding, mask));
  }
  if (!now.no_new_privs) return Status::error("no_new_privs is not set");
  if (setuid(0) == 0) return Status::error("setuid(0) succeeded after the drop");
  return Status::ok();
}

}  // namespace

Status read_process_credentials(const std::string& status_path, ProcessCredentials& out) {
  std::ifstream in(status_path);
  if (!in) return Status::error(fmt::format("cannot read {}", status_path));
  int found = 0;
  for (std::string line; std::getline(in, line);) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon);
    const std::string rest = line.substr(colon + 1);
    if (key == "Uid") {
      found += parse_ids(rest, out.real_uid, out.effective_uid, out.saved_uid);
    } else if (key == "Gid") {
      found += parse_ids(rest, out.real_gid, out.effective_gid, out.saved_gid);
    } else if (key == "CapEff") {
      found += parse_mask(rest, out.cap_effective);
    } else if (key == "CapPrm") {
      found += parse_mask(rest, out.cap_permitted);
    } else if (key == "CapBnd") {
      found += parse_mask(rest, out.cap_bounding);
    } else if (key == "CapAmb") {
      found += parse_mask(rest, out.cap_ambient);
    } else if (key == "NoNewPrivs") {
      out.no_new_privs = std::atoi(rest.c_str()) != 0;
      ++found;
    }
  }
  if (found != 7) return Status::error(fmt::format("{}: missing Uid/Gid/Cap*/NoNewPrivs lines", status_path));
  return Status::ok();
}

std::uint64_t kept_capability_mask(const RunAsUser& target) {
  std::uint64_t mask = std::uint64_t{1} << CAP_NET_RAW;
  if (target.keep_net_admin) mask |= std::uint64_t{1} << CAP_NET_ADMIN;
  return mask;
}

Status drop_privileges(const RunAsUser& target, std::string& done) {
  if (target.user.empty()) {
    done = "no user configured: keeping the credentials the agent was started with";
    return Status::ok();
  }
  if (geteuid() != 0) {
    done = fmt::format("started unprivileged (uid {}): nothing to drop", geteuid());
    return Status::ok();
  }
  uid_t uid = 0;
  gid_t gid = 0;
  if (Status s = resolve(target, uid, gid); !s) return s;
  const std::uint64_t mask = kept_capability_mask(target);
  // Keep the permitted set across setresuid, so the kept capabilities survive
  // it; everything else goes in keep_only() right after.
  if (Status s = limit_bounding_set(mask); !s) return s;
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return errno_error("prctl(PR_SET_KEEPCAPS)");
  if (setgroups(1, &gid) != 0) return errno_error("setgroups");
  if (setresgid(gid, gid, gid) != 0) return errno_error("setresgid");
  if (setresuid(uid, uid, uid) != 0) return errno_error("setresuid");
  if (Status s = keep_only(mask); !s) return s;
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return errno_error("prctl(PR_SET_KEEPCAPS, 0)");
  // No exec can hand back what was dropped (setuid binaries, file capabilities).
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno_error("prctl(PR_SET_NO_NEW_PRIVS)");
  if (Status s = verify(uid, gid, mask); !s) return Status::error("privilege drop did not take: " + s.message());
  done = fmt::format("dropped root: now user {} (uid {}, gid {}) with capabilities CapEff={:016x}", target.user, uid,
                     gid, mask);
  return Status::ok();
}

}  // namespace ipattrib
