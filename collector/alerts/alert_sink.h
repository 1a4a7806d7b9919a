// AlertSink: one destination alerts are delivered to (a webhook, syslog, a
// file). The delivery worker calls deliver() from one thread per sink and
// retries every failure, so a sink reports failure honestly and never
// retries or drops on its own.
#pragma once

#include <string>

#include "collector/alerts/alert_types.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

class AlertSink {
 public:
  virtual ~AlertSink() = default;
  // The configured name: the outbox and counters are kept per name.
  virtual const std::string& name() const = 0;
  // ok only once the destination has taken the alert (a 2xx answer, the
  // bytes handed to the socket, the line fsynced).
  virtual Status deliver(const Alert& alert) = 0;
  // Called from another thread at shutdown: make a deliver() in progress
  // give up now rather than at its timeout. The default does nothing.
  virtual void interrupt() {}
};

}  // namespace ipattrib::collector
