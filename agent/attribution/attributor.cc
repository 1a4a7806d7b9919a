#include "agent/attribution/attributor.h"

#include <string>

#include "agent/attribution/request_target.h"

namespace ipattrib::agent {

Attributor::Attributor(const AttributionConfig& config, AccessEventSink& out)
    : client_ip_(config.trusted_proxies, config.client_ip_headers),
      accounts_(config.account_rules),
      classes_(config.class_rules),
      out_(out) {}

namespace {

bool is_proxied(const RequestContext& context) { return context.proxy != nullptr && context.proxy->present; }

IpSource peer_source(const RequestContext& context) {
  return is_proxied(context) ? IpSource::kProxyProtocol : IpSource::kSocket;
}

}  // namespace

void Attributor::upcoming_request(const RequestContext& context) {
  if (context.endpoints == nullptr) return;
  const IpAddress& peer = is_proxied(context) ? context.proxy->source : context.endpoints->client_ip;
  if (const IpAddress client = client_ip_.client_if_untrusted(peer); client.is_set()) out_.upcoming_client(client);
}

void Attributor::on_request(const RequestContext& context, const RequestHead& head) {
  if (context.endpoints == nullptr) {
    ++no_endpoints_;  // cannot say where it came from: not an attributable access
    return;
  }
  ++requests_;
  AccessEvent event;
  event.ts_us = context.ts_us;
  event.peer_ip = context.endpoints->client_ip;
  event.peer_port = context.endpoints->client_port;
  event.server_ip = context.endpoints->server_ip;
  event.server_port = context.endpoints->server_port;

  const bool proxied = is_proxied(context);
  const ClientAddress client = proxied ? client_ip_.resolve(context.proxy->source, IpSource::kProxyProtocol, head)
                                       : client_ip_.resolve(context.endpoints->client_ip, IpSource::kSocket, head);
  // A client named by a forwarding header was not known before the head was
  // parsed (upcoming_request); announce it now, ahead of the account rules.
  if (client.source != peer_source(context)) out_.upcoming_client(client.ip);
  event.client_ip = client.ip;
  event.ip_source = client.source;
  ++by_source_[static_cast<std::size_t>(client.source)];

  event.method = head.method;
  event.target = head.target;
  if (const HttpHeader* host = head.find("Host")) event.host = host->value;

  const std::string_view path = request_path(head.target);
  AccountMatch account;
  if (accounts_.match(head, path, account)) {
    event.has_account = true;
    event.account = account.account;
    event.principal = account.principal;
  } else {
    ++no_account_;
  }

  event.access_class = classes_.classify(head.method, path);
  if (event.access_class == AccessClass::kAdmin) ++admin_;
  out_.on_access(event);
}

void Attributor::report(StatsSink& sink) const {
  static constexpr IpSource kSources[] = {IpSource::kSocket, IpSource::kProxyProtocol, IpSource::kForwarded,
                                          IpSource::kXForwardedFor, IpSource::kXRealIp};
  static constexpr std::string_view kNames[] = {
      "attribution.client_ip_from_socket", "attribution.client_ip_from_proxy_protocol",
      "attribution.client_ip_from_forwarded", "attribution.client_ip_from_x_forwarded_for",
      "attribution.client_ip_from_x_real_ip"};
  sink.counter("attribution.requests", requests_);
  sink.counter("attribution.no_account", no_account_);
  sink.counter("attribution.no_endpoints", no_endpoints_);
  sink.counter("attribution.admin", admin_);
  for (IpSource source : kSources) {
    const auto i = static_cast<std::size_t>(source);
    sink.counter(kNames[i], by_source_[i]);
  }
  client_ip_.report(sink);
  accounts_.report(sink);
}

}  // namespace ipattrib::agent
