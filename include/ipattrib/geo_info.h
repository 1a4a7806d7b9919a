// GeoInfo: where a client IP was believed to be at the time of access, as
// the agent's GeoResolver found it. Shared by agent (enrichment), wire codec
// and collector (policy). Unknown values are explicit, never an empty string
// that could be mistaken for a country.
#pragma once

#include <cstdint>
#include <string_view>

namespace ipattrib {

// ISO 3166-1 alpha-2 code, or unknown.
struct CountryCode {
  char code[2] = {0, 0};
  bool known() const { return code[0] != 0; }
  std::string_view view() const { return known() ? std::string_view(code, 2) : std::string_view(); }
  friend bool operator==(const CountryCode&, const CountryCode&) = default;
};

// ISO 3166-2 subdivision code such as "UA-43" or "GB-ENG" (at most 6 chars
// after the country and dash), or unknown.
struct SubdivisionCode {
  char code[10] = {};
  bool known() const { return code[0] != 0; }
  std::string_view view() const;
  friend bool operator==(const SubdivisionCode&, const SubdivisionCode&) = default;
};

inline std::string_view SubdivisionCode::view() const {
  std::uint32_t n = 0;
  while (n < sizeof(code) && code[n] != 0) ++n;
  return std::string_view(code, n);
}

enum AnonymizerFlag : std::uint8_t {
  kAnonymous = 1u << 0,
  kAnonymousVpn = 1u << 1,
  kHostingProvider = 1u << 2,
  kPublicProxy = 1u << 3,
  kResidentialProxy = 1u << 4,
  kTorExitNode = 1u << 5,
};

struct GeoInfo {
  CountryCode country;
  CountryCode registered_country;
  SubdivisionCode subdivision;  // first-level, e.g. "UA-43"
  std::uint32_t asn = 0;        // 0: unknown
  // Points into storage owned by the resolver (mapped database or cache);
  // valid while the AccessEvent carrying it is being handled.
  std::string_view as_org;
  std::uint8_t anonymizer_flags = 0;  // AnonymizerFlag bits
  std::int64_t db_build_epoch = 0;    // build epoch of the country/city db; 0: none
};

}  // namespace ipattrib
