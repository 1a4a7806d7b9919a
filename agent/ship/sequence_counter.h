// SequenceCounter: hands out the per-agent batch sequence numbers of the wire
// protocol (>= 1, strictly increasing over the agent's whole life). DiskSpool
// is the durable one: it remembers the highest sequence across restarts.
#pragma once

#include <cstdint>

namespace ipattrib::agent {

class SequenceCounter {
 public:
  virtual ~SequenceCounter() = default;
  // The next sequence, above every one returned before (in this and any earlier run).
  virtual std::uint64_t next_sequence() = 0;
};

}  // namespace ipattrib::agent
