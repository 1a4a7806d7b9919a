// RecordBatchSink: where the Aggregator hands each finished batch (the spool
// writer, a queue to the shipper thread, or a test's collector).
#pragma once

#include "ipattrib/attribution_record.h"

namespace ipattrib::agent {

class RecordBatchSink {
 public:
  virtual ~RecordBatchSink() = default;
  virtual void on_batch(RecordBatch&& batch) = 0;
};

}  // namespace ipattrib::agent
