// The opaque `cursor` of the accesses endpoint: an AccessCursor as base64url
// of "time_ms.skip". Clients must treat it as opaque; the server must treat
// it as untrusted input (a forged cursor only moves the page start).
#pragma once

#include <string>
#include <string_view>

#include "collector/ledger/ledger_types.h"

namespace ipattrib::collector {

std::string encode_access_cursor(const AccessCursor& cursor);
// False for anything encode_access_cursor cannot have produced.
bool decode_access_cursor(std::string_view token, AccessCursor& cursor);

}  // namespace ipattrib::collector
