// Symmetric flow hash: which worker a frame goes to. Both directions of a TCP
// connection hash the same (the endpoints are put in a fixed order first), so
// one worker sees the whole connection and owns its flow-table entry alone.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/capture/packet_source.h"
#include "agent/decode/packet_view.h"

namespace ipattrib::agent {

// Hash of the segment's (address, port) pair of endpoints, independent of
// which endpoint is the source.
std::uint32_t symmetric_flow_hash(const PacketView& segment);

// Decodes just enough of `frame` to hash its TCP endpoints. False for frames
// that are not a decodable TCP segment (the caller picks a fixed worker; the
// worker's decoder counts why the frame is unusable).
bool frame_flow_hash(LinkType link_type, const RawFrame& frame, std::uint32_t& hash);

// Maps a hash onto [0, workers) without a division (multiply-shift).
inline std::size_t worker_for_hash(std::uint32_t hash, std::size_t workers) {
  return static_cast<std::size_t>((std::uint64_t{hash} * workers) >> 32);
}

}  // namespace ipattrib::agent
