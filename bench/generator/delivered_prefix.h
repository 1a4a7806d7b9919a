// DeliveredPrefix: how much of one TCP byte stream a receiver holds in order,
// given the (possibly reordered, duplicated, overlapping) segments seen so
// far. The generator uses it to stamp each request with the segment that
// completed its head — the moment a correct reassembler can report it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace ipattrib::bench {

class DeliveredPrefix {
 public:
  // Bytes [begin, end) of the stream arrived; returns the in-order prefix length.
  std::uint64_t add(std::uint64_t begin, std::uint64_t end) {
    if (end <= delivered_) return delivered_;
    if (begin > delivered_) {
      pending_.emplace_back(begin, end);
      return delivered_;
    }
    delivered_ = end;
    bool advanced = true;
    while (advanced) {
      advanced = false;
      for (std::size_t i = 0; i < pending_.size(); ++i) {
        if (pending_[i].first > delivered_) continue;
        delivered_ = std::max(delivered_, pending_[i].second);
        pending_[i] = pending_.back();
        pending_.pop_back();
        advanced = true;
        break;
      }
    }
    return delivered_;
  }

  std::uint64_t delivered() const { return delivered_; }

 private:
  std::uint64_t delivered_ = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> pending_;
};

}  // namespace ipattrib::bench
