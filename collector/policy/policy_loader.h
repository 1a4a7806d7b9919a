// Reading and validating the special-measures policy file: every mistake a
// compliance reviewer can make (unknown key, unknown country or subdivision,
// bad CIDR, duplicate id, unordered dates, unknown severity, a measure that
// matches nothing) is reported as "file:line: message" and the policy is
// refused whole, so a half-understood policy is never put in force.
#pragma once

#include <toml++/toml.h>

#include <iosfwd>
#include <optional>
#include <string>

#include "collector/policy/iso_3166_codes.h"
#include "collector/policy/special_measures_policy.h"
#include "ipattrib/config_errors.h"

namespace ipattrib::collector {

struct PolicyLoadOptions {
  std::string iso_codes_dir = kDefaultIsoCodesDir;  // tests point this at their own data
};

// Parses a whole policy document (one [[measure]] table per measure).
SpecialMeasuresPolicy parse_policy(const toml::table& root, const Iso3166Codes& codes, ConfigErrors& errors);

// Reads, parses and validates the file; nullopt (with file:line errors in
// `errors`) when it is unreadable, not TOML, or invalid.
std::optional<SpecialMeasuresPolicy> load_policy_file(const std::string& path, ConfigErrors& errors,
                                                      const PolicyLoadOptions& options = {});

// `ipattrib-collector --check-policy FILE`: prints "FILE: ok, N measures" to
// `out`, or every error to `err`; returns the process exit code (0 or 1).
int check_policy_file(const std::string& path, std::ostream& out, std::ostream& err,
                      const PolicyLoadOptions& options = {});

}  // namespace ipattrib::collector
