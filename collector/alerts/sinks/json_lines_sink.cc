#include "collector/alerts/sinks/json_lines_sink.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "collector/alerts/alert_json.h"
#include "common/tls/tcp_socket.h"

namespace ipattrib::collector {
namespace {

class JsonLinesSink final : public AlertSink {
 public:
  JsonLinesSink(std::string name, std::string path) : name_(std::move(name)), path_(std::move(path)) {}

  const std::string& name() const override { return name_; }

  Status deliver(const Alert& alert) override {
    bool created = false;
    tls::UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
    if (!fd.valid() && errno == ENOENT) {
      fd.reset(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
      created = fd.valid();
    }
    if (!fd.valid()) return error("open");
    // One write of the whole line. A short write (disk full) is cut off
    // again so the retry does not leave half a line before the whole one.
    const std::string line = alert_json_text(alert) + "\n";
    const off_t before = ::lseek(fd.get(), 0, SEEK_END);
    const ssize_t n = ::write(fd.get(), line.data(), line.size());
    if (n != static_cast<ssize_t>(line.size())) {
      Status s = n < 0 ? error("write") : Status::error(fmt::format("alert file {}: short write", path_));
      if (n > 0 && before >= 0 && ::ftruncate(fd.get(), before) != 0) return error("truncate after short write");
      return s;
    }
    if (::fsync(fd.get()) != 0) return error("fsync");
    // A new file's directory entry must be durable too, or a power loss
    // could take the file with the lines we reported delivered.
    if (created) return sync_directory();
    return Status::ok();
  }

 private:
  Status sync_directory() const {
    const std::string dir = std::filesystem::path(path_).parent_path().string();
    tls::UniqueFd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid() || ::fsync(fd.get()) != 0) return error("fsync of its directory");
    return Status::ok();
  }

  Status error(const char* what) const {
    return Status::error(fmt::format("alert file {}: {}: {}", path_, what, std::strerror(errno)));
  }

  std::string name_;
  std::string path_;
};

}  // namespace

Status open_json_lines_sink(const FileSinkConfig& config, std::unique_ptr<AlertSink>& sink) {
  if (config.path.empty()) return Status::error("alert file sink " + config.name + " has no path");
  sink = std::make_unique<JsonLinesSink>(config.name, config.path);
  return Status::ok();
}

}  // namespace ipattrib::collector
