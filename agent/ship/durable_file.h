// Durable file operations for the spool: a file is written under a temporary
// name, fsynced, renamed into place and the directory fsynced, so after a
// crash a name either holds the complete bytes or does not exist.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ipattrib/status.h"

namespace ipattrib::agent {

// An open directory (O_DIRECTORY) whose entries are created and removed
// durably. Move-only.
class DurableDirectory {
 public:
  static Status open(const std::string& path, DurableDirectory& out);
  DurableDirectory() = default;
  DurableDirectory(DurableDirectory&& other) noexcept;
  DurableDirectory& operator=(DurableDirectory&& other) noexcept;
  DurableDirectory(const DurableDirectory&) = delete;
  DurableDirectory& operator=(const DurableDirectory&) = delete;
  ~DurableDirectory();

  const std::string& path() const { return path_; }
  // Writes the parts, in order, to name: temp file, fsync, rename, fsync dir.
  Status write_file(const std::string& name, std::span<const std::span<const std::uint8_t>> parts);
  Status read_file(const std::string& name, std::uint64_t max_bytes, std::vector<std::uint8_t>& out) const;
  // Unlinks name; the directory is not fsynced (see sync()).
  Status remove_file(const std::string& name);
  Status sync();
  // Takes an exclusive flock on name (created if needed) for this object's
  // lifetime: two agents must never share a spool.
  Status lock(const std::string& name);

 private:
  std::string path_;
  int dir_fd_ = -1;
  int lock_fd_ = -1;
};

}  // namespace ipattrib::agent
