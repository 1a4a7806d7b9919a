// Builds RequestHeads for attribution tests: owns the header storage the
// head's views point into.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agent/http/request_head.h"

namespace ipattrib::agent::testing {

class RequestFixture {
 public:
  explicit RequestFixture(std::string method = "GET", std::string target = "/") {
    method_ = std::move(method);
    target_ = std::move(target);
  }
  RequestFixture& header(std::string name, std::string value) {
    storage_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  const RequestHead& head() {
    headers_.clear();
    for (const auto& [name, value] : storage_) headers_.push_back(HttpHeader{name, value});
    head_.method = method_;
    head_.target = target_;
    head_.version = "HTTP/1.1";
    head_.headers = headers_;
    return head_;
  }

 private:
  std::string method_;
  std::string target_;
  std::vector<std::pair<std::string, std::string>> storage_;
  std::vector<HttpHeader> headers_;
  RequestHead head_;
};

// base64url without padding, as in JWTs.
inline std::string base64url(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(kAlphabet[(bits >> count) & 63]);
    }
  }
  if (count > 0) out.push_back(kAlphabet[(bits << (6 - count)) & 63]);
  return out;
}

inline std::string make_jwt(std::string_view payload_json) {
  return base64url(R"({"alg":"RS256","typ":"JWT"})") + "." + base64url(payload_json) + ".c2lnbmF0dXJl";
}

}  // namespace ipattrib::agent::testing
