// JwtClaimReader: reads an account claim (and optionally a principal claim)
// from the payload of a bearer JWT. The signature is NOT verified: the agent
// sees requests that the gateway it watches has already authenticated (and
// rejected if forged), and it holds no signing keys. A forged token therefore
// only ever appears in a request the gateway refused; attributing such a
// request to the claimed account is the accepted cost of passive capture.
#pragma once

#include <string>
#include <string_view>

#include "agent/attribution/id_text.h"

namespace ipattrib::agent {

class JwtClaimReader {
 public:
  enum class Result {
    kNotJwt,        // not three dot-separated segments: some other token
    kInvalid,       // JWT-shaped, but the payload is not base64url JSON object
    kMissingClaim,  // valid payload without a usable account claim
    kFound,
  };

  // Larger payloads are refused as kInvalid (bounded work and memory).
  static constexpr std::size_t kMaxEncodedPayload = 8192;

  JwtClaimReader();

  // `token` is the compact JWS (after "Bearer "). On kFound, `account` holds
  // the claim (string or integer) and `principal` the principal claim when
  // `principal_claim` is non-empty and present (else it is cleared).
  Result read(std::string_view token, std::string_view account_claim, std::string_view principal_claim, IdText& account,
              IdText& principal);

 private:
  bool decode_payload(std::string_view encoded);
  std::string payload_;  // decoded payload; capacity reserved once
};

}  // namespace ipattrib::agent
