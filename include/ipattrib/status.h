// Status: the result of an operation that can fail, LevelDB style. Returned
// instead of throwing on every I/O and configuration path.
#pragma once

#include <string>
#include <utility>

namespace ipattrib {

class Status {
 public:
  Status() = default;  // ok
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }

  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

}  // namespace ipattrib
