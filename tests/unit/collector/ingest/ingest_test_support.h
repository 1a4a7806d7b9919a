// Shared by the ingest and collector-client tests: batches with a known
// ledger footprint and a way to count what the ledger holds for them.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "collector/ledger/ledger_store.h"
#include "ipattrib/attribution_record.h"
#include "ipattrib/wire/batch_codec.h"

namespace ipattrib::testing {

inline constexpr int kAccessesPerBatch = 3;

// Batch `sequence` puts kAccessesPerBatch accesses on account "acct-<sequence>".
inline RecordBatch numbered_batch(const std::string& agent_id, std::uint64_t sequence) {
  RecordBatch batch;
  batch.agent_id = agent_id;
  batch.sequence = sequence;
  AttributionRecord record;
  record.account = "acct-" + std::to_string(sequence);
  record.client_ip = IpAddress::from_v4(0xC0000200u + static_cast<std::uint32_t>(sequence % 250) + 1);
  record.gateway = "gw-1";
  record.access_class = RecordClass::kAdmin;
  const std::int64_t t = 1'763'890'000'000 + static_cast<std::int64_t>(sequence) * 1000;
  record.access_times_ms = {t, t, t + 250};
  batch.records.push_back(record);
  return batch;
}

inline std::vector<std::uint8_t> numbered_frame(const std::string& agent_id, std::uint64_t sequence) {
  std::vector<std::uint8_t> frame;
  Status s = wire::encode_batch(numbered_batch(agent_id, sequence), frame);
  EXPECT_TRUE(s) << s.message();
  return frame;
}

// Accesses the ledger holds on account "acct-<sequence>" (0 if none).
inline std::uint64_t ledger_accesses(collector::LedgerStore& store, std::uint64_t sequence) {
  collector::AccountIpsQuery query;
  query.account = "acct-" + std::to_string(sequence);
  collector::Page<collector::IpSummary> page;
  Status s = store.account_ips(query, page);
  EXPECT_TRUE(s) << s.message();
  std::uint64_t total = 0;
  for (const auto& summary : page.items) total += summary.access_count;
  return total;
}

// Waits for something another thread or process does; a generous deadline
// only guards against hanging, it asserts nothing about speed.
inline bool eventually(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace ipattrib::testing
