// ReadAheadFile: reads a file front to back on a thread of its own into a
// few chunk buffers, so that the kernel's copy out of the page cache (or the
// disk's latency, for a capture not in the page cache) overlaps the caller's
// work on the chunk before. The pcap file reader's default mode: with the
// read(2) on the packet thread, the copy was ~20 % of that thread's time on
// the benchmark capture.
//
// One consumer thread. Each buffer has `front_slack` writable bytes in front
// of its data, so the consumer can put the unread tail of the chunk it is
// leaving (a record cut by the chunk end) right before the next chunk's bytes
// and parse on without copying the chunk. A chunk stays the consumer's until
// it asks for the one after it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ipattrib::agent {

class ReadAheadFile {
 public:
  struct Chunk {
    std::uint8_t* data = nullptr;  // front_slack writable bytes lie before it
    std::size_t size = 0;          // 0 at the end of the file or on an error
    std::uint64_t offset = 0;      // of data[0] in the file
    bool end = false;              // nothing follows: the file ended (or shrank) or a read failed
    int error = 0;                 // errno of the failed read(2), else 0
  };

  // Reads `fd` (not owned; it must outlive this) from `start` up to `stop`
  // (the file's size at open: bytes appended later are not read) in reads
  // of `chunk_bytes`, into `buffers` buffers (at least 2). When all are
  // full the thread sleeps until half of them are free again.
  ReadAheadFile(int fd, std::uint64_t start, std::uint64_t stop, std::size_t chunk_bytes, std::size_t front_slack,
                std::size_t buffers = 3);
  ~ReadAheadFile();  // stops the thread (an ongoing read finishes first)
  ReadAheadFile(const ReadAheadFile&) = delete;
  ReadAheadFile& operator=(const ReadAheadFile&) = delete;

  // Waits for the chunk after the last one returned. The last one stays
  // valid (its bytes can still be copied into the new chunk's slack) until
  // release_previous() or the next call. After a chunk with `end`, every
  // call returns that chunk again.
  Chunk next();
  // Gives the chunk before the last one returned back to the reading thread.
  void release_previous();

 private:
  struct Buffer {
    std::unique_ptr<std::uint8_t[]> bytes;  // front_slack + chunk_bytes
    Chunk chunk;
  };

  // The thread: fills free buffers in file order from `offset` until the end.
  void read_loop(std::uint64_t offset);
  Chunk read_chunk(Buffer& buffer, std::uint64_t offset);
  // With mutex_ held.
  std::size_t free_buffers() const { return buffers_.size() - static_cast<std::size_t>(filled_ - released_); }
  // Gives the oldest chunk handed out back; true when the thread is to be woken.
  bool release_oldest();

  const int fd_;
  const std::uint64_t stop_;
  const std::size_t chunk_bytes_;
  const std::size_t front_slack_;
  std::vector<Buffer> buffers_;

  std::mutex mutex_;
  std::condition_variable changed_;
  // Buffers in file order, as a ring: [released_, filled_) hold chunks read
  // (the first handed_ - released_ of them are the consumer's), the others
  // are free for the thread. Counts only grow; a chunk's buffer is its count
  // modulo the number of buffers.
  std::uint64_t filled_ = 0;    // chunks the thread has read
  std::uint64_t handed_ = 0;    // chunks next() has returned
  std::uint64_t released_ = 0;  // chunks the consumer has given back
  bool stopping_ = false;
  bool reader_waiting_ = false;  // the thread sleeps until wake_at_free_ buffers are free
  std::size_t wake_at_free_ = 1;
  Chunk last_;  // the chunk next() returned last
  std::thread thread_;
};

}  // namespace ipattrib::agent
