#include "agent/ship/durable_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace ipattrib::agent {
namespace {

Status errno_status(std::string_view what, const std::string& path) {
  return Status::error(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

bool write_all(int fd, std::span<const std::uint8_t> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

Status DurableDirectory::open(const std::string& path, DurableDirectory& out) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::error(fmt::format("cannot create {}: {}", path, ec.message()));
  DurableDirectory dir;
  dir.path_ = path;
  dir.dir_fd_ = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir.dir_fd_ < 0) return errno_status("cannot open directory", path);
  out = std::move(dir);
  return Status::ok();
}

DurableDirectory::DurableDirectory(DurableDirectory&& other) noexcept
    : path_(std::move(other.path_)),
      dir_fd_(std::exchange(other.dir_fd_, -1)),
      lock_fd_(std::exchange(other.lock_fd_, -1)) {}

DurableDirectory& DurableDirectory::operator=(DurableDirectory&& other) noexcept {
  if (this != &other) {
    close_fd(dir_fd_);
    close_fd(lock_fd_);
    path_ = std::move(other.path_);
    dir_fd_ = std::exchange(other.dir_fd_, -1);
    lock_fd_ = std::exchange(other.lock_fd_, -1);
  }
  return *this;
}

DurableDirectory::~DurableDirectory() {
  close_fd(dir_fd_);
  close_fd(lock_fd_);
}

Status DurableDirectory::write_file(const std::string& name, std::span<const std::span<const std::uint8_t>> parts) {
  const std::string temp = "tmp-" + name;
  int fd = ::openat(dir_fd_, temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_status("cannot create", path_ + "/" + temp);
  bool written = true;
  for (const auto& part : parts) written = written && write_all(fd, part);
  if (!written || ::fsync(fd) != 0) {
    Status status = errno_status("cannot write", path_ + "/" + temp);
    close_fd(fd);
    ::unlinkat(dir_fd_, temp.c_str(), 0);
    return status;
  }
  if (::close(fd) != 0) {
    Status status = errno_status("cannot close", path_ + "/" + temp);
    ::unlinkat(dir_fd_, temp.c_str(), 0);
    return status;
  }
  if (::renameat(dir_fd_, temp.c_str(), dir_fd_, name.c_str()) != 0) {
    Status status = errno_status("cannot rename into", path_ + "/" + name);
    ::unlinkat(dir_fd_, temp.c_str(), 0);
    return status;
  }
  return sync();
}

Status DurableDirectory::read_file(const std::string& name, std::uint64_t max_bytes,
                                   std::vector<std::uint8_t>& out) const {
  const std::string full = path_ + "/" + name;
  int fd = ::openat(dir_fd_, name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status("cannot open", full);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status status = errno_status("cannot stat", full);
    close_fd(fd);
    return status;
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    close_fd(fd);
    return Status::error(fmt::format("{} is {} bytes, more than a spooled batch can be", full, st.st_size));
  }
  out.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);  // shorter if the file shrank meanwhile: the record check sees it torn
  close_fd(fd);
  return Status::ok();
}

Status DurableDirectory::remove_file(const std::string& name) {
  if (::unlinkat(dir_fd_, name.c_str(), 0) != 0 && errno != ENOENT) {
    return errno_status("cannot remove", path_ + "/" + name);
  }
  return Status::ok();
}

Status DurableDirectory::sync() {
  if (::fsync(dir_fd_) != 0) return errno_status("cannot fsync directory", path_);
  return Status::ok();
}

Status DurableDirectory::lock(const std::string& name) {
  const std::string full = path_ + "/" + name;
  close_fd(lock_fd_);
  lock_fd_ = ::openat(dir_fd_, name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return errno_status("cannot open", full);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    Status status = errno == EWOULDBLOCK ? Status::error(fmt::format("{} is in use by another process", path_))
                                         : errno_status("cannot lock", full);
    close_fd(lock_fd_);
    return status;
  }
  return Status::ok();
}

}  // namespace ipattrib::agent
