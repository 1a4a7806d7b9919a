// PacketSource: where raw frames come from (libpcap live or file, or DPDK).
// The packet path pulls bursts; frames are views valid until the next call.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

// Link-layer framing of the frames a source delivers.
enum class LinkType : std::uint8_t {
  kEthernet,   // DLT_EN10MB
  kLinuxSll,   // DLT_LINUX_SLL
  kLinuxSll2,  // DLT_LINUX_SLL2
  kNull,       // DLT_NULL: 4-byte host-order address family
  kLoop,       // DLT_LOOP: 4-byte network-order address family
  kRawIp,      // DLT_RAW / LINKTYPE_RAW: IPv4 or IPv6 by version nibble
  kIpv4,       // LINKTYPE_IPV4
  kIpv6,       // LINKTYPE_IPV6
};

struct RawFrame {
  std::int64_t ts_us = 0;
  std::span<const std::uint8_t> data;  // captured bytes (<= snaplen)
  std::uint32_t wire_length = 0;       // length on the wire
};

enum class ReadStatus : std::uint8_t {
  kFrames,   // at least one frame returned
  kTimeout,  // live capture: nothing arrived within the read timeout
  kEnd,      // offline file fully read, or break_loop() called
  kError,    // see error()
};

class PacketSource {
 public:
  virtual ~PacketSource() = default;
  virtual LinkType link_type() const = 0;
  // Fills up to out.size() frames; returns how many and why.
  virtual std::size_t read_burst(std::span<RawFrame> out, ReadStatus& status) = 0;
  // Asks a blocking read to return kEnd; safe from a signal handler or
  // another thread.
  virtual void break_loop() = 0;
  // Counters such as kernel drops ("capture.kernel_drops").
  virtual void report(StatsSink& sink) const = 0;
  virtual const std::string& error() const = 0;
  // True when the frames come from a file read at full speed (pcap --read, a
  // DPDK net_pcap vdev): nothing is lost by waiting, so a full queue should
  // make the reader wait rather than drop, and the run ends at the file's end.
  virtual bool replays_a_file() const { return false; }

  // Sources that together deliver what this one would, split by flow (both
  // directions of a connection always in the same part), one per worker, so
  // `parts` workers can each read their own part without a capture thread in
  // between: a DPDK port whose symmetric RSS (or kernel fanout) spreads flows
  // over at least `parts` RX queues gives each part its share of the queues.
  // Their read_burst() runs on the worker; report() and break_loop() are safe
  // from any thread. Once split, only the parts are read (this source keeps
  // the device open). Empty, with the reason in `why`, when the source
  // cannot split: one thread then reads it and spreads frames in software.
  virtual std::vector<std::unique_ptr<PacketSource>> split_by_flow(std::size_t parts, std::string& why) {
    (void)parts;
    why = "the capture delivers one stream of frames";
    return {};
  }
};

}  // namespace ipattrib::agent
