#include "collector/api/api_reply.h"

#include "collector/api/ledger_json.h"

namespace ipattrib::collector {

void ApiReply::json(int code, const nlohmann::json& value) {
  status = code;
  body = dump_json(value);
  content_type = "application/json";
}

}  // namespace ipattrib::collector
