#include "ctl/query_client.h"

#include <httplib.h>

namespace ipattrib::ctl {
namespace {

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string server_message(const std::string& body, int status) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  return "HTTP " + std::to_string(status);
}

std::string transport_message(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "cannot reach the collector (connection failed)";
    case httplib::Error::SSLServerVerification:
      return "cannot reach the collector: its TLS certificate is not trusted (see --ca-cert)";
    case httplib::Error::SSLConnection:
      return "cannot reach the collector: TLS handshake failed";
    case httplib::Error::Read:
      return "cannot reach the collector: connection closed while reading";
    default:
      return "cannot reach the collector: " + httplib::to_string(error);
  }
}

// The HTTP outcome as ipattribctl's exit code and message.
Reply outcome(httplib::Result& result) {
  if (!result) return {kExitError, "", transport_message(result.error())};
  const int status = result->status;
  if (status == 200 || status == 202) return {kExitOk, std::move(result->body), ""};
  const int code = status == 404 ? kExitNotFound : status == 409 ? kExitConflict : kExitError;
  return {code, status == 409 ? result->body : "", server_message(result->body, status)};
}

}  // namespace

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (is_unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string path_with_query(const std::string& path, const QueryParams& params) {
  std::string out = path;
  char separator = '?';
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    out.push_back(separator);
    out += percent_encode(key) + "=" + percent_encode(value);
    separator = '&';
  }
  return out;
}

QueryClient::QueryClient(const ClientOptions& options) {
  std::string url = options.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    setup_error_ = "--url must start with http:// or https://";
    return;
  }
  if (url.find('/', url.find("//") + 2) != std::string::npos) {
    setup_error_ = "--url must be scheme://host[:port] without a path";
    return;
  }
  client_ = std::make_unique<httplib::Client>(url);
  if (!client_->is_valid()) {
    setup_error_ = "cannot use --url " + url;
    return;
  }
  client_->set_url_encode(false);  // paths are encoded here, once
  client_->set_connection_timeout(10, 0);
  client_->set_read_timeout(300, 0);  // an export of a large account takes a while
  if (!options.token.empty()) client_->set_bearer_token_auth(options.token);
  if (url.rfind("https://", 0) == 0) {
    if (!options.ca_cert.empty()) client_->set_ca_cert_path(options.ca_cert);
    client_->enable_server_certificate_verification(true);
  }
}

QueryClient::~QueryClient() = default;

Reply QueryClient::get(const std::string& path_and_query) {
  if (!setup_error_.empty()) return {kExitError, "", setup_error_};
  httplib::Result result = client_->Get(path_and_query);
  return outcome(result);
}

Reply QueryClient::get_json(const std::string& path_and_query, nlohmann::json& out) {
  Reply reply = get(path_and_query);
  if (reply.code != kExitOk) return reply;
  out = nlohmann::json::parse(reply.body, nullptr, false);
  if (out.is_discarded()) return {kExitError, "", "the collector sent a response that is not JSON"};
  return reply;
}

Reply QueryClient::post_json(const std::string& path, const nlohmann::json& body, nlohmann::json& out) {
  if (!setup_error_.empty()) return {kExitError, "", setup_error_};
  httplib::Result result =
      client_->Post(path, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
  Reply reply = outcome(result);
  if (reply.code != kExitOk && reply.code != kExitConflict) return reply;
  out = nlohmann::json::parse(reply.body, nullptr, false);
  if (out.is_discarded() && reply.code == kExitOk) {
    return {kExitError, "", "the collector sent a response that is not JSON"};
  }
  return reply;
}

}  // namespace ipattrib::ctl
