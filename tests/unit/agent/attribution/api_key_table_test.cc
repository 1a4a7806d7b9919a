#include "agent/attribution/api_key_table.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "agent/attribution/sha256_hasher.h"

namespace ipattrib::agent {
namespace {

constexpr const char* kDigestOfTest =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";  // sha256("test")

Sha256Digest digest_of(std::string_view key) {
  Sha256Hasher hasher;
  Sha256Digest d{};
  EXPECT_TRUE(hasher.digest(key, d));
  return d;
}

TEST(Sha256HasherTest, KnownVectorAndReuse) {
  Sha256Hasher hasher;
  Sha256Digest a{};
  Sha256Digest b{};
  ASSERT_TRUE(hasher.digest("test", a));
  ASSERT_TRUE(hasher.digest("other", b));
  ASSERT_TRUE(hasher.digest("test", b));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a[0], 0x9f);
  EXPECT_EQ(a[31], 0x08);
}

TEST(ApiKeyTableTest, ParsesLinesCommentsAndPrincipal) {
  std::vector<ApiKeyTable::LoadError> errors;
  const std::string text =
      std::string("# comment\n\n  # sha256(key) in hex  account  [principal]\n") + kDigestOfTest + " acme ci-bot\r\n" + "  " + std::string(64, 'A') + "\tglobex\n";
  const ApiKeyTable table = ApiKeyTable::parse(text, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(table.size(), 2u);
  const ApiKeyOwner* owner = table.find(digest_of("test"));
  ASSERT_NE(owner, nullptr);
  EXPECT_EQ(owner->account, "acme");
  EXPECT_EQ(owner->principal, "ci-bot");
  Sha256Digest upper{};
  upper.fill(0xaa);
  ASSERT_NE(table.find(upper), nullptr);
  EXPECT_EQ(table.find(upper)->principal, "");
  EXPECT_EQ(table.find(digest_of("nope")), nullptr);
}

TEST(ApiKeyTableTest, ReportsEveryBadLineWithItsNumber) {
  std::vector<ApiKeyTable::LoadError> errors;
  const std::string text = std::string(kDigestOfTest) + " acme\n" +                    // 1 ok
                           "sk_live_secret acme\n" +                                   // 2 a key, not a digest
                           std::string(64, 'g') + " acme\n" +                          // 3 not hex
                           std::string(kDigestOfTest) + "\n" +                         // 4 no account
                           std::string(kDigestOfTest) + " other\n" +                   // 5 duplicate
                           std::string(63, 'a') + " acme\n" +                          // 6 short
                           std::string(64, 'b') + " a b c\n" +                         // 7 too many fields
                           std::string(64, 'c') + " " + std::string(300, 'x') + "\n";  // 8 too long
  const ApiKeyTable table = ApiKeyTable::parse(text, errors);
  ASSERT_EQ(errors.size(), 7u);
  for (std::size_t i = 0; i < errors.size(); ++i) EXPECT_EQ(errors[i].line, i + 2) << errors[i].message;
  for (const auto& e : errors) EXPECT_EQ(e.message.find("sk_live_secret"), std::string::npos);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.find(digest_of("test"))->account, "acme");
}

TEST(ApiKeyTableTest, LoadFromFileAndMissingFile) {
  std::vector<ApiKeyTable::LoadError> errors;
  const ApiKeyTable missing = ApiKeyTable::load("/nonexistent/ipattrib/keys.tsv", errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 0u);
  EXPECT_EQ(missing.size(), 0u);

  const std::string path = ::testing::TempDir() + "/attribution_keys.tsv";
  std::ofstream(path) << kDigestOfTest << " acme\n";
  errors.clear();
  const ApiKeyTable table = ApiKeyTable::load(path, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(table.size(), 1u);
  std::remove(path.c_str());
}

// A file of many keys (sized once, no rehash while loading) finds every key
// and still reports a duplicate and a bad line with their numbers; a pipe
// (no size to read up front) loads the same way.
TEST(ApiKeyTableTest, LargeFileAndPipeLoadEveryKey) {
  constexpr int kKeys = 20000;
  std::string text = "# many keys\n";
  auto hex = [](const Sha256Digest& d) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (std::uint8_t b : d) {
      out += digits[b >> 4];
      out += digits[b & 15];
    }
    return out;
  };
  for (int i = 0; i < kKeys; ++i) text += hex(digest_of("key-" + std::to_string(i))) + " acct-" + std::to_string(i) + "\n";
  text += hex(digest_of("key-7")) + " again\n";  // line kKeys + 2
  text += "not-a-digest acct\n";                  // line kKeys + 3
  const std::string path = ::testing::TempDir() + "/attribution_many_keys.tsv";
  std::ofstream(path) << text;
  std::vector<ApiKeyTable::LoadError> errors;
  const ApiKeyTable table = ApiKeyTable::load(path, errors);
  EXPECT_EQ(table.size(), static_cast<std::size_t>(kKeys));
  for (int i = 0; i < kKeys; i += 997) {
    const ApiKeyOwner* owner = table.find(digest_of("key-" + std::to_string(i)));
    ASSERT_NE(owner, nullptr) << i;
    EXPECT_EQ(owner->account, "acct-" + std::to_string(i));
  }
  EXPECT_EQ(table.find(digest_of("key-" + std::to_string(kKeys))), nullptr);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].line, static_cast<std::uint32_t>(kKeys + 2));
  EXPECT_EQ(errors[1].line, static_cast<std::uint32_t>(kKeys + 3));

  // The same text through a FIFO.
  const std::string fifo = ::testing::TempDir() + "/attribution_keys.fifo";
  std::remove(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] { std::ofstream(fifo) << text; });
  errors.clear();
  const ApiKeyTable piped = ApiKeyTable::load(fifo, errors);
  writer.join();
  EXPECT_EQ(piped.size(), static_cast<std::size_t>(kKeys));
  EXPECT_EQ(errors.size(), 2u);
  std::remove(path.c_str());
  std::remove(fifo.c_str());
}

}  // namespace
}  // namespace ipattrib::agent
