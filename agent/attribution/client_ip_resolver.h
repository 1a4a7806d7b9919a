// ClientIpResolver: finds the address a request really came from. The peer
// is the socket's client address, or the PROXY protocol source when the
// connection announced one. Forwarding headers count only when that peer is a
// trusted proxy; then the first configured header present is walked right to
// left (all occurrences of it, in order), skipping trusted proxies, and the
// first address that is not a trusted proxy is the client — the rightmost
// address no trusted proxy can vouch for is the only one a client cannot
// forge (RFC 7239 §8.1). If every entry is a trusted proxy, the leftmost is.
//
// An entry that is not an address ("unknown", "_hidden", garbage) ends the
// walk: a trusted hop said its client was something we cannot check, and
// everything left of it was written by that client. The request is then
// attributed to the last address verified — the nearest trusted hop, or the
// peer itself — never to anything further left.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/attribution/access_event.h"
#include "agent/attribution/attribution_config.h"
#include "agent/http/request_head.h"
#include "ipattrib/ip_address.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

struct ClientAddress {
  IpAddress ip;
  IpSource source = IpSource::kSocket;
};

class ClientIpResolver {
 public:
  ClientIpResolver(const CidrSet& trusted_proxies, const std::vector<ClientIpHeader>& headers);

  // `peer` is the socket client or PROXY source, `peer_source` says which.
  ClientAddress resolve(const IpAddress& peer, IpSource peer_source, const RequestHead& head);
  // What resolve() will answer for `peer` whatever the headers, when it is
  // not a trusted proxy; unset when the headers may decide.
  IpAddress client_if_untrusted(const IpAddress& peer) const;

  // attribution.bad_forwarding_header, attribution.forwarding_header_from_untrusted_peer
  void report(StatsSink& sink) const;

 private:
  bool collect_entries(ClientIpHeader header, const RequestHead& head);
  ClientAddress walk(ClientIpHeader header, const ClientAddress& peer);

  CidrSet trusted_proxies_;
  std::vector<ClientIpHeader> headers_;
  unsigned configured_ = 0;  // 1 << ClientIpHeader for each of headers_
  std::vector<std::string_view> entries_;  // reused; grows only to the longest chain seen
  std::uint64_t bad_forwarding_header_ = 0;
  std::uint64_t untrusted_peer_headers_ = 0;
};

}  // namespace ipattrib::agent
