#include "agent/capture/pcap_link_type.h"

namespace ipattrib::agent {
namespace {

// Numbers from pcap/dlt.h and the tcpdump.org LINKTYPE registry. DLT_RAW is
// 12 on most systems but 14 on OpenBSD; files say LINKTYPE_RAW (101), and
// libpcap maps it back to the local DLT_RAW, so all three occur.
constexpr int kDltNull = 0;
constexpr int kDltEn10mb = 1;
constexpr int kDltRaw = 12;
constexpr int kDltRawOpenBsd = 14;
constexpr int kLinktypeRaw = 101;
constexpr int kDltLoop = 108;
constexpr int kDltLinuxSll = 113;
constexpr int kLinktypeIpv4 = 228;
constexpr int kLinktypeIpv6 = 229;
constexpr int kDltLinuxSll2 = 276;

}  // namespace

std::optional<LinkType> link_type_from_dlt(int dlt) {
  switch (dlt) {
    case kDltNull: return LinkType::kNull;
    case kDltEn10mb: return LinkType::kEthernet;
    case kDltRaw:
    case kDltRawOpenBsd:
    case kLinktypeRaw: return LinkType::kRawIp;
    case kDltLoop: return LinkType::kLoop;
    case kDltLinuxSll: return LinkType::kLinuxSll;
    case kLinktypeIpv4: return LinkType::kIpv4;
    case kLinktypeIpv6: return LinkType::kIpv6;
    case kDltLinuxSll2: return LinkType::kLinuxSll2;
    default: return std::nullopt;
  }
}

}  // namespace ipattrib::agent
