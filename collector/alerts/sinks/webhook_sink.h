// WebhookSink: POSTs each alert's JSON to a URL (http or https), signed so
// the receiver can tell our alerts from forgeries:
//   X-Ipattrib-Signature: sha256=<hex HMAC-SHA256(secret, exact body)>
//   X-Ipattrib-Timestamp: <unix seconds when sent>
//   X-Ipattrib-Alert-Id:  <alert id, the receiver's idempotency key>
// Any 2xx answer is success; everything else is retried by the outbox.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "collector/alerts/alert_sink.h"
#include "collector/alerts/alerts_config.h"

namespace ipattrib::collector {

// Lower-case hex of HMAC-SHA256(key, body).
std::string hmac_sha256_hex(std::string_view key, std::string_view body);

// Reads the secret from config.secret_file (trailing whitespace dropped; an
// empty secret is an error). The secret is never logged nor put in errors.
Status open_webhook_sink(const WebhookSinkConfig& config, std::unique_ptr<AlertSink>& sink);

}  // namespace ipattrib::collector
