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

unsigned bit(ClientIpHeader header) { return 1u << static_cast<unsigned>(header); }

// bit(header) when `name` is that forwarding header's, else 0. Switching on
// the length first leaves one comparison for most names.
unsigned forwarding_header_bit(std::string_view name) {
  switch (name.size()) {
    case 9:
      if (equals_ignore_case(name, header_name(ClientIpHeader::kForwarded))) return bit(ClientIpHeader::kForwarded);
      if (equals_ignore_case(name, header_name(ClientIpHeader::kXRealIp))) return bit(ClientIpHeader::kXRealIp);
      return 0;
    case 15:
      if (equals_ignore_case(name, header_name(ClientIpHeader::kXForwardedFor))) {
        return bit(ClientIpHeader::kXForwardedFor);
      }
      return 0;
    default: return 0;
  }
}

// Which forwarding headers the request carries, as bit(header) flags: one
// pass over its header names instead of one per configured header.
unsigned forwarding_headers_present(const RequestHead& head) {
  unsigned present = 0;
  for (const HttpHeader& h : head.headers) present |= forwarding_header_bit(h.name);
  return present;
}

}  // namespace

ClientIpResolver::ClientIpResolver(const CidrSet& trusted_proxies, const std::vector<ClientIpHeader>& headers)
    : trusted_proxies_(trusted_proxies), headers_(headers) {
  for (ClientIpHeader header : headers_) configured_ |= bit(header);
  entries_.reserve(32);
}

ClientAddress ClientIpResolver::resolve(const IpAddress& peer, IpSource peer_source, const RequestHead& head) {
  const ClientAddress from_peer{unmap_v4(peer), peer_source};
  const unsigned present = forwarding_headers_present(head) & configured_;
  if (!trusted_proxies_.contains(from_peer.ip)) {
    if (present != 0) ++untrusted_peer_headers_;
    return from_peer;
  }
  if (present == 0) return from_peer;
  for (ClientIpHeader header : headers_) {
    if ((present & bit(header)) != 0 && collect_entries(header, head)) return walk(header, from_peer);
  }
  return from_peer;
}

IpAddress ClientIpResolver::client_if_untrusted(const IpAddress& peer) const {
  IpAddress client = unmap_v4(peer);
  return trusted_proxies_.contains(client) ? IpAddress() : client;
}

bool ClientIpResolver::collect_entries(ClientIpHeader header, const RequestHead& head) {
  entries_.clear();
  const unsigned wanted = bit(header);
  for (const HttpHeader& h : head.headers) {
    if (forwarding_header_bit(h.name) != wanted) continue;
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
