#include "ipattrib/wire/batch_codec.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <cstdio>
#include <limits>
#include <random>

#include "common/wire/byte_codec.h"
#include "common/wire/record_payload.h"
#include "ipattrib/wire/frame.h"

namespace ipattrib::wire {
namespace {

constexpr std::int64_t kNowMs = 1'763'890'000'000;  // 2025-11-23

AttributionRecord record(std::string account, const char* ip, std::vector<std::int64_t> times) {
  AttributionRecord r;
  r.account = std::move(account);
  r.client_ip = *IpAddress::parse(ip);
  r.gateway = "gw-fra-1";
  r.access_times_ms = std::move(times);
  return r;
}

RecordBatch small_batch() {
  RecordBatch batch;
  batch.agent_id = "agent-fra-1";
  batch.sequence = 7;
  AttributionRecord v4 = record("acct-1", "192.0.2.10", {kNowMs, kNowMs, kNowMs + 1, kNowMs + 86'400'000});
  v4.principal = "alice@example.com";
  v4.access_class = RecordClass::kAdmin;
  v4.ip_source = RecordIpSource::kXForwardedFor;
  v4.geo = RecordGeo{"DE", "DE", "DE-HE", 3320, "Deutsche Telekom AG", kHostingProvider, 1'760'000'000};
  batch.records.push_back(v4);
  AttributionRecord v6 = record("счёт-Ω-账户", "2001:db8::1", {kNowMs - 5});
  v6.principal = "";  // no principal
  v6.ip_source = RecordIpSource::kXRealIp;
  v6.geo.as_org = "Ünïcode Networks";
  batch.records.push_back(v6);
  return batch;
}

// A flush window's worth of a busy gateway: 1000 (account, ip, class)
// records with 5 accesses each, 300 accounts, 2 gateways, 20 countries.
RecordBatch realistic_batch(std::uint32_t records, std::uint32_t accesses_per_record) {
  std::mt19937 rng(42);
  static const char* kCountries[] = {"US", "DE", "FR", "GB", "NL", "IE", "SE", "PL", "ES", "IT",
                                     "JP", "SG", "IN", "BR", "CA", "AU", "CH", "AT", "BE", "FI"};
  RecordBatch batch;
  batch.agent_id = "agent-fra-1";
  batch.sequence = 123456;
  for (std::uint32_t i = 0; i < records; ++i) {
    AttributionRecord r;
    r.account = "acct-" + std::to_string(100000 + rng() % 300);
    if (rng() % 3 == 0) r.principal = "user" + std::to_string(rng() % 1000) + "@example.com";
    if (rng() % 4 == 0) {
      std::uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8};
      for (int k = 8; k < 16; ++k) b[k] = static_cast<std::uint8_t>(rng());
      r.client_ip = IpAddress::from_v6_bytes(b);
    } else {
      r.client_ip = IpAddress::from_v4(0xc6330000u + rng() % 65536);
    }
    r.access_class = rng() % 10 == 0 ? RecordClass::kAdmin : RecordClass::kAccess;
    r.ip_source = rng() % 2 ? RecordIpSource::kSocket : RecordIpSource::kXForwardedFor;
    r.gateway = rng() % 2 ? "gw-fra-1" : "gw-fra-2";
    const char* country = kCountries[rng() % 20];
    r.geo.country = country;
    r.geo.registered_country = country;
    r.geo.asn = 64500 + rng() % 50;
    r.geo.as_org = "AS org " + std::to_string(r.geo.asn);
    r.geo.db_build_epoch = 1'760'000'000;
    std::int64_t t = kNowMs + rng() % 1000;
    for (std::uint32_t k = 0; k < accesses_per_record; ++k) {
      r.access_times_ms.push_back(t);
      t += rng() % 200;
    }
    batch.records.push_back(std::move(r));
  }
  return batch;
}

std::vector<std::uint8_t> body_of(const std::vector<std::uint8_t>& frame) {
  EXPECT_GE(frame.size(), kFrameHeaderBytes);
  EXPECT_EQ(frame[5], static_cast<std::uint8_t>(FrameType::kBatch));
  return std::vector<std::uint8_t>(frame.begin() + kFrameHeaderBytes, frame.end());
}

std::vector<std::uint8_t> encoded_body(const RecordBatch& batch, const WireLimits& limits = WireLimits()) {
  std::vector<std::uint8_t> frame;
  const Status s = encode_batch(batch, frame, limits);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return body_of(frame);
}

// A BATCH body around an arbitrary (possibly hostile) uncompressed payload.
std::vector<std::uint8_t> body_with_payload(const std::vector<std::uint8_t>& payload, std::uint64_t record_count,
                                            std::uint64_t declared_payload_bytes) {
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  w.varint(1);
  w.string("agent");
  w.varint(record_count);
  w.varint(declared_payload_bytes);
  w.u8(1);
  const std::size_t head = body.size();
  body.resize(head + ZSTD_compressBound(payload.size()));
  const std::size_t n = ZSTD_compress(body.data() + head, body.size() - head, payload.data(), payload.size(), 1);
  EXPECT_FALSE(ZSTD_isError(n));
  body.resize(head + n);
  return body;
}

std::vector<std::uint8_t> payload_of(const RecordBatch& batch) {
  const auto body = encoded_body(batch);
  BatchHeader header;
  EXPECT_TRUE(peek_batch_header(body, header).is_ok());
  std::vector<std::uint8_t> payload(header.payload_bytes);
  // The zstd frame is the tail after the uncompressed head; find its start.
  for (std::size_t start = 0; start < body.size(); ++start) {
    if (ZSTD_findFrameCompressedSize(body.data() + start, body.size() - start) == body.size() - start) {
      const std::size_t n = ZSTD_decompress(payload.data(), payload.size(), body.data() + start, body.size() - start);
      if (!ZSTD_isError(n) && n == payload.size()) return payload;
    }
  }
  ADD_FAILURE() << "no zstd frame in body";
  return {};
}

TEST(BatchCodecTest, RoundTripsIpv4Ipv6UnicodeAndEmptyPrincipal) {
  const RecordBatch batch = small_batch();
  RecordBatch back;
  const Status s = decode_batch(encoded_body(batch), back);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(back, batch);
  EXPECT_TRUE(back.records[0].client_ip.is_v4());
  EXPECT_TRUE(back.records[1].client_ip.is_v6());
}

TEST(BatchCodecTest, RoundTripsManyTimesEqualStampsHugeGapsAndExtremes) {
  RecordBatch batch = small_batch();
  std::vector<std::int64_t> times;
  for (int i = 0; i < 10000; ++i) times.push_back(kNowMs + (i / 7) * 13);  // runs of equal timestamps
  times.push_back(kNowMs + 400LL * 24 * 3600 * 1000);                     // a year-plus gap
  batch.records.push_back(record("acct-many", "10.0.0.1", times));
  batch.records.push_back(record("acct-extreme", "::1",
                                 {std::numeric_limits<std::int64_t>::min(), -1, 0,
                                  std::numeric_limits<std::int64_t>::max()}));
  RecordBatch back;
  const Status s = decode_batch(encoded_body(batch), back);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(back, batch);
}

TEST(BatchCodecTest, EmptyBatchRoundTrips) {
  RecordBatch batch;
  batch.agent_id = "a";
  batch.sequence = 1;
  RecordBatch back = small_batch();
  ASSERT_TRUE(decode_batch(encoded_body(batch), back).is_ok());
  EXPECT_EQ(back, batch);
}

TEST(BatchCodecTest, RealisticBatchBytesPerAccess) {
  const RecordBatch batch = realistic_batch(1000, 5);
  std::vector<std::uint8_t> frame;
  ASSERT_TRUE(encode_batch(batch, frame).is_ok());
  RecordBatch back;
  ASSERT_TRUE(decode_batch(body_of(frame), back).is_ok());
  EXPECT_EQ(back, batch);
  BatchHeader header;
  ASSERT_TRUE(peek_batch_header(body_of(frame), header).is_ok());
  const double accesses = 5000.0;
  std::printf("realistic batch: 1000 records x 5 accesses: payload %u bytes (%.2f B/access), frame %zu bytes on the "
              "wire (%.2f B/access, %.1f B/record)\n",
              header.payload_bytes, header.payload_bytes / accesses, frame.size(), frame.size() / accesses,
              frame.size() / 1000.0);
  EXPECT_LT(frame.size(), header.payload_bytes);  // zstd earns its keep
  EXPECT_LT(frame.size() / accesses, 10.0);       // compact: well under a text log line per access
}

TEST(BatchCodecTest, PayloadMatchesTheWorkedExampleOfProtocolMd) {
  AttributionRecord r = record("acct-42", "192.0.2.10", {1763890000000, 1763890000000, 1763890000250});
  r.gateway = "gw-1";
  r.access_class = RecordClass::kAdmin;
  r.ip_source = RecordIpSource::kXForwardedFor;
  r.geo = RecordGeo{"DE", "DE", "", 3320, "DTAG", 0, 1700000000};
  std::vector<std::uint8_t> payload;
  ASSERT_TRUE(encode_record_payload({r}, payload, WireLimits()).is_ok());
  EXPECT_EQ(payload, (std::vector<std::uint8_t>{
                         0x05, 0x07, 0x61, 0x63, 0x63, 0x74, 0x2d, 0x34, 0x32, 0x00, 0x04, 0x67, 0x77, 0x2d,
                         0x31, 0x02, 0x44, 0x45, 0x04, 0x44, 0x54, 0x41, 0x47, 0x00, 0x01, 0x02, 0x04, 0xc0,
                         0x00, 0x02, 0x0a, 0x01, 0x03, 0x03, 0x03, 0x01, 0xf8, 0x19, 0x04, 0x00, 0x80, 0xc4,
                         0x9f, 0xd5, 0x0c, 0x03, 0x80, 0xc2, 0xcb, 0x80, 0xd6, 0x66, 0x00, 0xfa, 0x01}));
}

TEST(BatchCodecTest, PeekReadsHeadWithoutPayload) {
  const auto body = encoded_body(small_batch());
  BatchHeader header;
  ASSERT_TRUE(peek_batch_header(body, header).is_ok());
  EXPECT_EQ(header.sequence, 7u);
  EXPECT_EQ(header.agent_id, "agent-fra-1");
  EXPECT_EQ(header.record_count, 2u);
  EXPECT_GT(header.payload_bytes, 0u);
}

TEST(BatchCodecTest, EncoderRefusesWhatADecoderWouldRefuse) {
  std::vector<std::uint8_t> frame;
  auto refused = [&](RecordBatch b, const WireLimits& limits = WireLimits()) {
    return !encode_batch(b, frame, limits).is_ok() && frame.empty();
  };
  RecordBatch b = small_batch();
  b.sequence = 0;
  EXPECT_TRUE(refused(b));
  b = small_batch();
  b.agent_id.clear();
  EXPECT_TRUE(refused(b));
  b = small_batch();
  b.records[0].account.clear();
  EXPECT_TRUE(refused(b));
  b = small_batch();
  b.records[0].client_ip = IpAddress();
  EXPECT_TRUE(refused(b));
  b = small_batch();
  b.records[0].access_times_ms.clear();
  EXPECT_TRUE(refused(b));
  b = small_batch();
  b.records[0].access_times_ms = {5, 4};
  EXPECT_TRUE(refused(b));
  b = small_batch();
  b.records[0].access_class = static_cast<RecordClass>(2);
  EXPECT_TRUE(refused(b));
  WireLimits limits;
  limits.max_records_per_batch = 1;
  EXPECT_TRUE(refused(small_batch(), limits));
  limits = WireLimits();
  limits.max_accesses_per_record = 3;
  EXPECT_TRUE(refused(small_batch(), limits));
  limits = WireLimits();
  limits.max_accesses_per_batch = 4;
  EXPECT_TRUE(refused(small_batch(), limits));
  limits = WireLimits();
  limits.max_string_bytes = 10;
  EXPECT_TRUE(refused(small_batch(), limits));
}

TEST(BatchCodecTest, DecoderEnforcesLimitsOnAValidBatch) {
  const auto body = encoded_body(small_batch());
  RecordBatch back;
  WireLimits limits;
  limits.max_records_per_batch = 1;
  EXPECT_FALSE(decode_batch(body, back, limits).is_ok());
  limits = WireLimits();
  limits.max_accesses_per_record = 3;
  EXPECT_FALSE(decode_batch(body, back, limits).is_ok());
  limits = WireLimits();
  limits.max_accesses_per_batch = 4;
  EXPECT_FALSE(decode_batch(body, back, limits).is_ok());
  limits = WireLimits();
  limits.max_string_bytes = 10;
  EXPECT_FALSE(decode_batch(body, back, limits).is_ok());
  limits = WireLimits();
  limits.max_batch_decompressed_bytes = 20;
  const Status s = decode_batch(body, back, limits);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("payload_bytes"), std::string::npos) << s.message();
}

TEST(BatchCodecTest, EveryTruncationIsAnErrorAndFrameReaderNeedsMore) {
  RecordBatch batch = small_batch();
  std::vector<std::uint8_t> frame;
  ASSERT_TRUE(encode_batch(batch, frame).is_ok());
  const auto body = body_of(frame);
  for (std::size_t n = 0; n < body.size(); ++n) {
    RecordBatch back;
    EXPECT_FALSE(decode_batch(std::span(body).first(n), back).is_ok()) << n;
  }
  for (std::size_t n = 0; n < frame.size(); ++n) {
    FrameReader reader;
    EXPECT_EQ(reader.feed(std::span(frame).first(n)), n);
    Frame out;
    EXPECT_EQ(reader.next(out), FrameReader::Result::kNeedMore) << n;
  }
  FrameReader reader;
  for (std::uint8_t byte : frame) ASSERT_EQ(reader.feed(std::span(&byte, 1)), 1u);
  Frame out;
  ASSERT_EQ(reader.next(out), FrameReader::Result::kFrame);
  RecordBatch back;
  ASSERT_TRUE(decode_batch(out.body, back).is_ok());
  EXPECT_EQ(back, batch);
}

TEST(BatchCodecTest, RandomByteFlipsNeverCrash) {
  std::mt19937 rng(20261123);
  const auto body = encoded_body(small_batch());
  const auto payload = payload_of(small_batch());
  int body_errors = 0;
  int payload_errors = 0;
  for (int round = 0; round < 2000; ++round) {
    auto corrupted = body;
    for (int k = 0, flips = 1 + rng() % 4; k < flips; ++k) corrupted[rng() % corrupted.size()] ^= 1u << (rng() % 8);
    RecordBatch back;
    if (!decode_batch(corrupted, back).is_ok()) ++body_errors;
    // Corrupt the records themselves (zstd's checksum-free frame would
    // otherwise mostly fail first) by recompressing a flipped payload.
    auto bad_payload = payload;
    for (int k = 0, flips = 1 + rng() % 4; k < flips; ++k) {
      bad_payload[rng() % bad_payload.size()] ^= 1u << (rng() % 8);
    }
    const Status s = decode_batch(body_with_payload(bad_payload, 2, bad_payload.size()), back);
    if (!s.is_ok()) {
      ++payload_errors;
      EXPECT_FALSE(s.message().empty());
    } else {
      EXPECT_EQ(back.records.size(), 2u);
      for (const auto& r : back.records) {
        EXPECT_FALSE(r.account.empty());
        EXPECT_TRUE(std::is_sorted(r.access_times_ms.begin(), r.access_times_ms.end()));
      }
    }
  }
  EXPECT_GT(body_errors, 0);
  EXPECT_GT(payload_errors, 0);
}

TEST(BatchCodecTest, ZstdBombIsRejectedBeforeDecompressing) {
  WireLimits limits;
  limits.max_batch_decompressed_bytes = 1 << 20;
  const std::vector<std::uint8_t> zeros(8 << 20, 0);  // compresses to a few hundred bytes
  RecordBatch back;
  // Honest declaration over the limit.
  const auto honest = body_with_payload(zeros, 1, zeros.size());
  EXPECT_LT(honest.size(), 2000u);
  Status s = decode_batch(honest, back, limits);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("above the limit"), std::string::npos) << s.message();
  // Lying declaration under the limit: the zstd frame's own size disagrees.
  s = decode_batch(body_with_payload(zeros, 1, 1000), back, limits);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("declares"), std::string::npos) << s.message();
}

TEST(BatchCodecTest, ZstdFrameWithoutContentSizeIsRejected) {
  const auto payload = payload_of(small_batch());
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_contentSizeFlag, 0);
  std::vector<std::uint8_t> compressed(ZSTD_compressBound(payload.size()));
  ZSTD_outBuffer out{compressed.data(), compressed.size(), 0};
  ZSTD_inBuffer in{payload.data(), payload.size(), 0};
  ASSERT_EQ(ZSTD_compressStream2(ctx, &out, &in, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(ctx);
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  w.varint(1);
  w.string("agent");
  w.varint(2);
  w.varint(payload.size());
  w.u8(1);
  w.bytes(std::span(compressed.data(), out.pos));
  RecordBatch back;
  const Status s = decode_batch(body, back);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("content size"), std::string::npos) << s.message();
}

TEST(BatchCodecTest, StructuralLiesAreRejected) {
  const auto payload = payload_of(small_batch());
  RecordBatch back;
  ASSERT_TRUE(decode_batch(body_with_payload(payload, 2, payload.size()), back).is_ok());
  EXPECT_FALSE(decode_batch(body_with_payload(payload, 1, payload.size()), back).is_ok());  // trailing record
  EXPECT_FALSE(decode_batch(body_with_payload(payload, 3, payload.size()), back).is_ok());  // missing record
  EXPECT_FALSE(decode_batch(body_with_payload(payload, 1000000, payload.size()), back).is_ok());

  auto body = body_with_payload(payload, 2, payload.size());
  auto with_trailer = body;
  with_trailer.push_back(0);
  EXPECT_FALSE(decode_batch(with_trailer, back).is_ok());
  auto two_frames = body;
  const auto again = body_with_payload(payload, 2, payload.size());
  two_frames.insert(two_frames.end(), again.begin() + 10, again.end());
  EXPECT_FALSE(decode_batch(two_frames, back).is_ok());

  auto bad_codec = body;
  // sequence (1) | "agent" (1+5) | record_count (1) | payload_bytes (1 or 2) | codec
  bad_codec[payload.size() < 128 ? 9 : 10] = 2;
  const Status s = decode_batch(bad_codec, back);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("codec"), std::string::npos) << s.message();

  // String index past the table: a table of one string, then a record naming string 5.
  std::vector<std::uint8_t> hostile;
  ByteWriter w(hostile);
  w.varint(1);
  w.string("a");
  w.varint(5);
  for (int i = 0; i < 30; ++i) w.u8(0);
  const Status idx = decode_batch(body_with_payload(hostile, 1, hostile.size()), back);
  EXPECT_FALSE(idx.is_ok());
  EXPECT_NE(idx.message().find("refers to string 5"), std::string::npos) << idx.message();
}

TEST(BatchCodecTest, HugeCountsInATinyPayloadAllocateNothing) {
  // A string table claiming 400k entries, an access count of a million: both
  // must be refused from the remaining length, not discovered by allocating.
  std::vector<std::uint8_t> table;
  ByteWriter(table).varint(400'000);
  RecordBatch back;
  EXPECT_FALSE(decode_batch(body_with_payload(table, 0, table.size()), back).is_ok());

  std::vector<std::uint8_t> times;
  ByteWriter w(times);
  w.varint(1);
  w.string("a");
  for (int i = 0; i < 3; ++i) w.varint(0);
  w.u8(4);
  for (int i = 0; i < 4; ++i) w.u8(1);
  w.u8(0);
  w.u8(0);
  for (int i = 0; i < 5; ++i) w.varint(0);
  w.u8(0);
  w.svarint(0);
  w.varint(1'000'000);
  w.svarint(kNowMs);
  for (int i = 0; i < 10; ++i) w.u8(0);  // a few deltas, not a million
  const Status s = decode_batch(body_with_payload(times, 1, times.size()), back);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("access count"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ipattrib::wire
