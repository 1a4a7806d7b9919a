#include "agent/attribution/client_ip_resolver.h"

#include "agent/attribution/forwarding_entry.h"

namespace ipattrib::agent {
namespace {

std::string_view header_name(ClientIpHeader header) {
  switch (header) {
    case ClientIpHeader::kForwarded: return "Forwarded";
    case ClientIpHeader::kXForwardedFor: return "X-Forwarded-For";
    case ClientIpHeader::kXRealIp: return "X-Real-IP";
  }
  return "Forwarded";
}

IpSource source_of(ClientIpHeader header) {
  switch (header) {
    case ClientIpHeader::kForwarded: return IpSource::kForwarded;
    case ClientIpHeader::kXForwardedFor: return IpSource::kXForwardedFor;
    case ClientIpHeader::kXRealIp: return IpSource::kXRealIp;
  }
  return IpSource::kForwarded;
}

}  // namespace

ClientIpResolver::ClientIpResolver(const CidrSet& trusted_proxies, const std::vector<ClientIpHeader>& headers)
    : trusted_proxies_(trusted_proxies), headers_(headers) {
  entries_.reserve(32);
}

ClientAddress ClientIpResolver::resolve(const IpAddress& peer, IpSource peer_source, const RequestHead& head) {
  const ClientAddress from_peer{unmap_v4(peer), peer_source};
  if (!trusted_proxies_.contains(from_peer.ip)) {
    for (ClientIpHeader header : headers_) {
      if (head.find(header_name(header)) != nullptr) {
        ++untrusted_peer_headers_;
        break;
      }
    }
    return from_peer;
  }
  for (ClientIpHeader header : headers_) {
    if (collect_entries(header, head)) return walk(header, from_peer);
  }
  return from_peer;
}

IpAddress ClientIpResolver::client_if_untrusted(const IpAddress& peer) const {
  IpAddress client = unmap_v4(peer);
  return trusted_proxies_.contains(client) ? IpAddress() : client;
}

bool ClientIpResolver::collect_entries(ClientIpHeader header, const RequestHead& head) {
  entries_.clear();
  const std::string_view name = header_name(header);
  for (const HttpHeader& h : head.headers) {
    if (!equals_ignore_case(h.name, name)) continue;
    for_each_list_entry(h.value, [this](std::string_view entry) { entries_.push_back(entry); });
  }
  return !entries_.empty();
}

ClientAddress ClientIpResolver::walk(ClientIpHeader header, const ClientAddress& peer) {
  ClientAddress verified = peer;
  const IpSource source = source_of(header);
  for (std::size_t i = entries_.size(); i-- > 0;) {
    const std::optional<IpAddress> hop = header == ClientIpHeader::kForwarded ? parse_forwarded_element(entries_[i])
                                                                              : parse_forwarded_for_entry(entries_[i]);
    if (!hop) {
      ++bad_forwarding_header_;
      return verified;
    }
    if (!trusted_proxies_.contains(*hop)) return ClientAddress{*hop, source};
    verified = ClientAddress{*hop, source};
  }
  return verified;
}

void ClientIpResolver::report(StatsSink& sink) const {
  sink.counter("attribution.bad_forwarding_header", bad_forwarding_header_);
  sink.counter("attribution.forwarding_header_from_untrusted_peer", untrusted_peer_headers_);
}

}  // namespace ipattrib::agent
