// OutputQueue: one worker's bounded hand-off of finished outputs (--events
// lines, record batches) to the capture thread, which writes and ships them.
// A boost::lockfree::spsc_queue of owned pointers: one producer (the worker),
// one consumer. Outputs are per request or per window, not per packet.
#pragma once

#include <boost/lockfree/spsc_queue.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <thread>

namespace ipattrib::agent {

template <class T>
class OutputQueue {
 public:
  explicit OutputQueue(std::size_t capacity) : queue_(capacity) {}
  ~OutputQueue() {
    queue_.consume_all([](T* item) { delete item; });
  }
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;

  // Producer. Never drops: while the queue is full it waits (calling
  // on_wait() each turn) for the consumer, which always drains — output is
  // complete, and a worker that falls behind shows up as ring drops at capture.
  // Returns how many turns it waited.
  template <class OnWait>
  std::size_t push(std::unique_ptr<T> item, OnWait&& on_wait) {
    T* raw = item.release();
    std::size_t waits = 0;
    while (!queue_.push(raw)) {
      on_wait();
      ++waits;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return waits;
  }

  // Consumer: hands every queued item to fn(T&), then frees it.
  template <class Fn>
  std::size_t drain(Fn&& fn) {
    return queue_.consume_all([&](T* item) {
      std::unique_ptr<T> owned(item);
      fn(*owned);
    });
  }

 private:
  boost::lockfree::spsc_queue<T*> queue_;
};

}  // namespace ipattrib::agent
