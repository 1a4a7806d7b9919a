#include "agent/capture/read_ahead_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

namespace ipattrib::agent {
namespace {

namespace fs = std::filesystem;

// The test file's byte at `offset`: any misplaced byte shows.
std::uint8_t byte_at(std::uint64_t offset) { return static_cast<std::uint8_t>(offset * 7 % 251); }

class ReadAheadFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ipattrib-read-ahead-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    for (int fd : fds_) close(fd);
    fs::remove_all(dir_);
  }

  // A file of `size` bytes, open for reading (closed by TearDown).
  int open_file(std::size_t size) {
    const fs::path path = dir_ / ("data" + std::to_string(fds_.size()));
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(byte_at(i));
    std::ofstream(path, std::ios::binary) << bytes;
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    fds_.push_back(fd);
    return fd;
  }

  fs::path dir_;
  std::vector<int> fds_;
};

struct Consumed {
  std::uint64_t end_offset = 0;  // offset + size of the chunk with `end`
  std::size_t chunks = 0;
  int error = 0;
  bool intact = true;
};

// Takes every chunk, checking each follows the one before and holds the
// file's bytes; writes over each chunk's whole slack (ASan sees a short one)
// and, if asked, releases the chunk before; sometimes dawdles so the reading
// thread both runs ahead and waits.
Consumed consume_all(ReadAheadFile& file, std::uint64_t start, std::size_t slack, bool release) {
  std::mt19937 random(11);
  Consumed out;
  std::uint64_t expected = start;
  while (true) {
    const ReadAheadFile::Chunk chunk = file.next();
    ++out.chunks;
    out.intact = out.intact && chunk.offset == expected;
    for (std::size_t i = 0; i < chunk.size; ++i) out.intact = out.intact && chunk.data[i] == byte_at(chunk.offset + i);
    std::memset(chunk.data - slack, 0xEE, slack);
    expected = chunk.offset + chunk.size;
    if (release) file.release_previous();
    if (chunk.end) {
      out.end_offset = expected;
      out.error = chunk.error;
      return out;
    }
    if (random() % 8 == 0) std::this_thread::yield();
  }
}

TEST_F(ReadAheadFileTest, DeliversTheWholeFileInOrderAcrossManyTurnsOfTheBuffers) {
  const std::size_t size = 100003;
  const int fd = open_file(size);
  for (const std::size_t chunk : {7, 4096, 65536}) {
    for (const std::size_t buffers : {2, 3, 8}) {
      for (const bool release : {true, false}) {
        SCOPED_TRACE(testing::Message() << "chunk " << chunk << " buffers " << buffers << " release " << release);
        ReadAheadFile file(fd, 0, size, chunk, 32, buffers);
        const Consumed got = consume_all(file, 0, 32, release);
        EXPECT_TRUE(got.intact);
        EXPECT_EQ(got.end_offset, size);
        EXPECT_EQ(got.error, 0);
        EXPECT_EQ(got.chunks, size / chunk + 1);  // the last chunk is short (size is prime)
        // The end is sticky.
        const ReadAheadFile::Chunk again = file.next();
        EXPECT_TRUE(again.end);
        EXPECT_EQ(again.offset + again.size, size);
      }
    }
  }
}

// Bytes past `stop` (appended after the file was opened) are not read; a
// file shorter than `stop` (shrunk since) ends where it ends, without error.
TEST_F(ReadAheadFileTest, ReadsFromTheStartGivenToTheSizeGivenOrTheFileEnd) {
  struct Case {
    std::uint64_t start, stop, file_end;
  };
  for (const Case c : {Case{24, 9000, 9000}, Case{0, 8000, 5000}}) {
    SCOPED_TRACE(testing::Message() << "start " << c.start << " stop " << c.stop);
    const int fd = open_file(c.stop == c.file_end ? 10000 : c.file_end);
    ReadAheadFile file(fd, c.start, c.stop, 1000, 16, 3);
    const Consumed got = consume_all(file, c.start, 16, true);
    EXPECT_TRUE(got.intact);
    EXPECT_EQ(got.end_offset, c.file_end);
    EXPECT_EQ(got.error, 0);
  }
}

TEST_F(ReadAheadFileTest, AnEmptyRangeEndsAtOnce) {
  const int fd = open_file(100);
  ReadAheadFile file(fd, 100, 100, 64, 16, 3);
  const ReadAheadFile::Chunk chunk = file.next();
  EXPECT_TRUE(chunk.end);
  EXPECT_EQ(chunk.size, 0u);
  EXPECT_EQ(chunk.offset, 100u);
  EXPECT_EQ(chunk.error, 0);
}

TEST_F(ReadAheadFileTest, AFailedReadEndsWithItsErrno) {
  const int fd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);  // pread on a directory: EISDIR
  ASSERT_GE(fd, 0);
  fds_.push_back(fd);
  ReadAheadFile file(fd, 0, 4096, 512, 16, 3);
  const ReadAheadFile::Chunk chunk = file.next();
  EXPECT_TRUE(chunk.end);
  EXPECT_EQ(chunk.error, EISDIR);
  EXPECT_EQ(chunk.offset, 0u);
}

TEST_F(ReadAheadFileTest, StopsWhenDestroyedMidFile) {
  const std::size_t size = 1 << 20;
  const int fd = open_file(size);
  for (int i = 0; i < 50; ++i) {
    ReadAheadFile file(fd, 0, size, 4096, 16, 2);
    const ReadAheadFile::Chunk first = file.next();
    EXPECT_EQ(first.offset, 0u);
    EXPECT_EQ(first.size, 4096u);
    EXPECT_EQ(first.data[100], byte_at(100));
  }  // the thread waits for a free buffer and must still end
}

}  // namespace
}  // namespace ipattrib::agent
