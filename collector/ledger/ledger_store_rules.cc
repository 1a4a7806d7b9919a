#include "collector/ledger/ledger_store_rules.h"

#include <fmt/format.h>

namespace ipattrib::collector {

Status validate_batch(const RecordBatch& batch) {
  if (batch.agent_id.empty()) return Status::error("batch has no agent id");
  if (batch.sequence == 0 || batch.sequence > static_cast<std::uint64_t>(INT64_MAX)) {
    return Status::error(fmt::format("batch sequence {} out of range", batch.sequence));
  }
  for (const AttributionRecord& r : batch.records) {
    if (r.account.empty()) return Status::error("record without account");
    if (!r.client_ip.is_set()) return Status::error("record without client ip");
    if (r.access_times_ms.empty()) return Status::error("record without access times");
    if (static_cast<int>(r.access_class) > 1 || static_cast<int>(r.ip_source) > 4) {
      return Status::error("record with unknown class or ip source");
    }
  }
  return Status::ok();
}

Status collect_account_export(const std::string& account,
                              const std::function<Status(const AccountIpsQuery&, Page<IpSummary>&)>& account_ips,
                              const std::function<Status(const AccountAccessesQuery&, AccessPage&)>& account_accesses,
                              AccountExport& out) {
  AccountIpsQuery ips;
  ips.account = account;
  ips.limit = 10000;
  for (Page<IpSummary> page;; ips.offset += ips.limit) {
    if (Status s = account_ips(ips, page); !s) return s;
    out.ips.insert(out.ips.end(), page.items.begin(), page.items.end());
    if (!page.more) break;
  }
  AccountAccessesQuery accesses;
  accesses.account = account;
  accesses.limit = 100000;
  for (AccessPage page;;) {
    if (Status s = account_accesses(accesses, page); !s) return s;
    out.accesses.insert(out.accesses.end(), page.items.begin(), page.items.end());
    if (!page.next) break;
    accesses.after = *page.next;
  }
  return Status::ok();
}

}  // namespace ipattrib::collector
