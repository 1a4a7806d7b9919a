#include "agent/capture/read_ahead_file.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace ipattrib::agent {

ReadAheadFile::ReadAheadFile(int fd, std::uint64_t start, std::uint64_t stop, std::size_t chunk_bytes,
                             std::size_t front_slack, std::size_t buffers)
    : fd_(fd), stop_(stop), chunk_bytes_(std::max<std::size_t>(chunk_bytes, 1)), front_slack_(front_slack) {
  buffers_.resize(std::max<std::size_t>(buffers, 2));
  wake_at_free_ = buffers_.size() / 2;
  for (Buffer& buffer : buffers_) {
    buffer.bytes = std::make_unique_for_overwrite<std::uint8_t[]>(front_slack_ + chunk_bytes_);
  }
  thread_ = std::thread([this, start] { read_loop(start); });
}

void ReadAheadFile::read_loop(std::uint64_t offset) {
  pthread_setname_np(pthread_self(), "ipattrib-read");  // for top -H and perf
  while (true) {
    Buffer* buffer = nullptr;
    {
      std::unique_lock lock(mutex_);
      if (free_buffers() == 0) {
        // Asleep until half the buffers are free, not one: woken once per
        // that many chunks (each wake-up is a futex call on the packet thread).
        reader_waiting_ = true;
        changed_.wait(lock, [&] { return stopping_ || free_buffers() >= wake_at_free_; });
        reader_waiting_ = false;
      }
      if (stopping_) return;
      buffer = &buffers_[filled_ % buffers_.size()];
    }
    // The buffer is the thread's alone until it is counted as filled.
    const Chunk chunk = read_chunk(*buffer, offset);
    {
      std::lock_guard lock(mutex_);
      buffer->chunk = chunk;
      ++filled_;
    }
    changed_.notify_all();
    if (chunk.end) return;
    offset += chunk.size;
  }
}

ReadAheadFile::~ReadAheadFile() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

ReadAheadFile::Chunk ReadAheadFile::read_chunk(Buffer& buffer, std::uint64_t offset) {
  Chunk chunk;
  chunk.data = buffer.bytes.get() + front_slack_;
  chunk.offset = offset;
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_bytes_, stop_ - offset));
  while (chunk.size < want) {
    const ssize_t got = ::pread(fd_, chunk.data + chunk.size, want - chunk.size,
                                static_cast<off_t>(offset + chunk.size));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      chunk.error = errno;
      chunk.end = true;
      return chunk;
    }
    if (got == 0) break;  // the file shrank since it was opened: it ends here
    chunk.size += static_cast<std::size_t>(got);
  }
  chunk.end = chunk.size < want || offset + chunk.size >= stop_;
  return chunk;
}

ReadAheadFile::Chunk ReadAheadFile::next() {
  std::unique_lock lock(mutex_);
  if (last_.end && handed_ > 0) return last_;
  // A consumer that never released keeps two chunks at most.
  if (handed_ - released_ >= 2 && release_oldest()) changed_.notify_all();
  changed_.wait(lock, [&] { return filled_ > handed_; });
  last_ = buffers_[handed_ % buffers_.size()].chunk;
  ++handed_;
  return last_;
}

void ReadAheadFile::release_previous() {
  std::lock_guard lock(mutex_);
  // Notified under the lock: measured fewer futex calls than after it.
  if (handed_ - released_ >= 2 && release_oldest()) changed_.notify_all();
}

bool ReadAheadFile::release_oldest() {
  ++released_;
  return reader_waiting_ && free_buffers() >= wake_at_free_;
}

}  // namespace ipattrib::agent
