// Names of the AnonymizerFlag bits as the --events JSON and the collector's
// policy spell them ("tor_exit_node"), so every writer of the list agrees.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "ipattrib/geo_info.h"

namespace ipattrib {

struct AnonymizerFlagName {
  AnonymizerFlag flag;
  std::string_view name;
};

inline constexpr std::array<AnonymizerFlagName, 6> kAnonymizerFlagNames = {{
    {kAnonymous, "anonymous"},
    {kAnonymousVpn, "anonymous_vpn"},
    {kHostingProvider, "hosting_provider"},
    {kPublicProxy, "public_proxy"},
    {kResidentialProxy, "residential_proxy"},
    {kTorExitNode, "tor_exit_node"},
}};

// Calls f(name) for each flag set in flags, in the order above.
template <typename F>
void for_each_anonymizer_flag(std::uint8_t flags, F&& f) {
  for (const auto& [flag, name] : kAnonymizerFlagNames) {
    if ((flags & flag) != 0) f(name);
  }
}

}  // namespace ipattrib
