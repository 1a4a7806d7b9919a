#include "collector/policy/policy_loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ostream>
#include <sstream>
#include <unordered_map>

#include "ipattrib/anonymizer_flag_names.h"

namespace ipattrib::collector {
namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;

bool valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

// A string every measure must have, non-empty.
std::string required_string(const toml::table& t, std::string_view key, std::string_view where,
                            ConfigErrors& errors) {
  if (t.get(key) == nullptr) {
    errors.add_at(t, fmt::format("{} is missing '{}'", where, key));
    return {};
  }
  std::optional<std::string> value = errors.get_string(t, key);
  if (value && value->empty()) errors.add_at(*t.get(key), fmt::format("{}: '{}' is empty", where, key));
  return value.value_or("");
}

// Calls visit(node, element) for each element of the array `key` of type T
// (absent: nothing); records an error for anything else.
template <typename T, typename Visit>
void for_each_element(const toml::table& t, std::string_view key, std::string_view type_name, ConfigErrors& errors,
                      Visit&& visit) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    errors.add_at(*node, fmt::format("'{}' must be an array of {}", key, type_name));
    return;
  }
  for (const toml::node& element : *array) {
    if (const auto* value = element.as<T>()) {
      visit(element, value->get());
    } else {
      errors.add_at(element, fmt::format("'{}' must contain only {}", key, type_name));
    }
  }
}

// A TOML date (midnight UTC) or a date-time with a UTC offset, as ms since
// the epoch; `text` gets the value as written.
std::optional<std::int64_t> read_instant(const toml::node& node, std::string_view key, std::string& text,
                                         ConfigErrors& errors) {
  using namespace std::chrono;
  auto days_of = [](const toml::date& d) {
    return sys_days(year_month_day(year(d.year), month(d.month), day(d.day))).time_since_epoch().count();
  };
  std::ostringstream written;
  if (const auto* d = node.as_date()) {
    written << d->get();
    text = written.str();
    return days_of(d->get()) * kMsPerDay;
  }
  if (const auto* dt = node.as_date_time(); dt != nullptr && dt->get().offset) {
    const toml::date_time& v = dt->get();
    written << v;
    text = written.str();
    const std::int64_t seconds = v.time.hour * 3600 + v.time.minute * 60 + v.time.second;
    return days_of(v.date) * kMsPerDay + seconds * 1000 + v.time.nanosecond / 1'000'000 -
           static_cast<std::int64_t>(v.offset->minutes) * 60'000;
  }
  errors.add_at(node, fmt::format("'{}' must be a TOML date such as 2024-01-01 (unquoted), or a date-time with a "
                                  "UTC offset such as 2024-01-01T00:00:00Z",
                                  key));
  return std::nullopt;
}

void read_period(const toml::table& t, std::string_view where, SpecialMeasure& m, ConfigErrors& errors) {
  const toml::node* effective = t.get("effective");
  if (effective == nullptr) {
    errors.add_at(t, fmt::format("{} is missing 'effective' (the date it is in force from)", where));
    return;
  }
  std::optional<std::int64_t> from = read_instant(*effective, "effective", m.effective_text, errors);
  if (from) m.effective_ms = *from;
  const toml::node* expires = t.get("expires");
  if (expires == nullptr) return;
  m.expires_ms = read_instant(*expires, "expires", m.expires_text, errors);
  if (from && m.expires_ms && *m.expires_ms <= *from) {
    errors.add_at(*expires, fmt::format("{}: 'expires' ({}) must be after 'effective' ({})", where, m.expires_text,
                                        m.effective_text));
  }
}

void read_severity(const toml::table& t, std::string_view where, SpecialMeasure& m, ConfigErrors& errors) {
  const std::string text = required_string(t, "severity", where, errors);
  if (text.empty()) return;
  if (!parse_severity(text, m.severity)) {
    errors.add_at(*t.get("severity"),
                  fmt::format("{}: 'severity' must be one of critical, high, review, info; got '{}'", where, text));
  }
}

void read_jurisdictions(const toml::table& t, const Iso3166Codes& codes, SpecialMeasure& m, ConfigErrors& errors) {
  for_each_element<std::string>(t, "countries", "strings", errors, [&](const toml::node& n, const std::string& code) {
    if (!codes.is_country(code)) {
      errors.add_at(n, fmt::format("unknown country code '{}' (not an ISO 3166-1 alpha-2 code)", code));
    } else if (std::find(m.countries.begin(), m.countries.end(), code) == m.countries.end()) {
      m.countries.push_back(code);
    }
  });
  for_each_element<std::string>(t, "subdivisions", "strings", errors, [&](const toml::node& n, const std::string& code) {
    if (!codes.is_subdivision(code)) {
      errors.add_at(n, fmt::format("unknown subdivision code '{}' (not an ISO 3166-2 code such as UA-43)", code));
    } else if (std::find(m.subdivisions.begin(), m.subdivisions.end(), code) == m.subdivisions.end()) {
      m.subdivisions.push_back(code);
    }
  });
  if (std::optional<bool> v = errors.get_bool(t, "match_registered_country")) {
    m.match_registered_country = *v;
    if (*v && t.get("countries") == nullptr) {
      errors.add_at(*t.get("match_registered_country"), "'match_registered_country' needs 'countries' to match");
    }
  }
}

void read_persons(const toml::table& t, SpecialMeasure& m, ConfigErrors& errors) {
  for_each_element<std::string>(t, "accounts", "strings", errors, [&](const toml::node& n, const std::string& id) {
    if (id.empty()) {
      errors.add_at(n, "'accounts' contains an empty account id");
    } else if (std::find(m.accounts.begin(), m.accounts.end(), id) == m.accounts.end()) {
      m.accounts.push_back(id);
    }
  });
  for_each_element<std::string>(t, "networks", "strings", errors, [&](const toml::node& n, const std::string& text) {
    const std::optional<Cidr> cidr = Cidr::parse(text);
    const std::optional<IpAddress> address = IpAddress::parse(std::string_view(text).substr(0, text.find('/')));
    if (!cidr) {
      errors.add_at(n, fmt::format("'{}' is not a CIDR such as 192.0.2.0/24 or 2001:db8::/32", text));
    } else if (address && *address != cidr->network) {
      // Host bits set: most likely a typo in the prefix or the address.
      errors.add_at(n, fmt::format("'{}' has host bits set; the network is {}", text, cidr->to_string()));
    } else {
      m.networks.push_back(*cidr);
    }
  });
  for_each_element<std::int64_t>(t, "asns", "integers", errors, [&](const toml::node& n, std::int64_t asn) {
    if (asn < 1 || asn > 4'294'967'295) {
      errors.add_at(n, fmt::format("'asns' entry {} is not an AS number (1 to 4294967295)", asn));
    } else {
      m.asns.push_back(static_cast<std::uint32_t>(asn));
    }
  });
}

void read_anonymizers(const toml::table& t, SpecialMeasure& m, ConfigErrors& errors) {
  for_each_element<std::string>(t, "anonymizers", "strings", errors, [&](const toml::node& n, const std::string& name) {
    const auto it = std::find_if(kAnonymizerFlagNames.begin(), kAnonymizerFlagNames.end(),
                                 [&](const AnonymizerFlagName& f) { return f.name == name; });
    if (it == kAnonymizerFlagNames.end()) {
      errors.add_at(n, fmt::format("unknown anonymizer '{}' (one of tor_exit_node, public_proxy, anonymous_vpn, "
                                   "hosting_provider, residential_proxy, anonymous)",
                                   name));
    } else {
      m.anonymizer_flags = static_cast<std::uint8_t>(m.anonymizer_flags | it->flag);
    }
  });
}

bool matches_something(const SpecialMeasure& m) {
  return !m.countries.empty() || !m.subdivisions.empty() || !m.accounts.empty() || !m.networks.empty() ||
         !m.asns.empty() || m.anonymizer_flags != 0;
}

std::optional<SpecialMeasure> parse_measure(const toml::table& t, const Iso3166Codes& codes, ConfigErrors& errors) {
  const std::size_t errors_before = errors.errors().size();
  SpecialMeasure m;
  m.id = required_string(t, "id", "[[measure]]", errors);
  if (!m.id.empty() && !valid_id(m.id)) {
    errors.add_at(*t.get("id"), fmt::format("measure id '{}' may only use letters, digits, '.', '_' and '-' "
                                            "(at most 128)",
                                            m.id));
  }
  const std::string where = m.id.empty() ? std::string("[[measure]]") : fmt::format("measure '{}'", m.id);
  errors.reject_unknown_keys(t,
                             {"id", "title", "basis", "effective", "expires", "severity", "countries", "subdivisions",
                              "match_registered_country", "accounts", "networks", "asns", "anonymizers"},
                             where);
  m.title = required_string(t, "title", where, errors);
  m.basis = required_string(t, "basis", where, errors);
  read_period(t, where, m, errors);
  read_severity(t, where, m, errors);
  read_jurisdictions(t, codes, m, errors);
  read_persons(t, m, errors);
  read_anonymizers(t, m, errors);
  if (errors.errors().size() != errors_before) return std::nullopt;
  if (!matches_something(m)) {
    errors.add_at(t, fmt::format("{} matches nothing: give at least one of countries, subdivisions, accounts, "
                                 "networks, asns, anonymizers",
                                 where));
    return std::nullopt;
  }
  return m;
}

}  // namespace

SpecialMeasuresPolicy parse_policy(const toml::table& root, const Iso3166Codes& codes, ConfigErrors& errors) {
  SpecialMeasuresPolicy policy;
  policy.source = errors.file();
  errors.reject_unknown_keys(root, {"measure"}, "the policy file (it holds [[measure]] tables only)");
  const toml::node* node = root.get("measure");
  if (node == nullptr) return policy;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    errors.add_at(*node, "'measure' must be [[measure]] tables");
    return policy;
  }
  std::unordered_map<std::string, std::uint32_t> first_line;
  for (const toml::node& element : *array) {
    const toml::table* table = element.as_table();
    if (table == nullptr) {
      errors.add_at(element, "'measure' must be [[measure]] tables");
      continue;
    }
    std::optional<SpecialMeasure> measure = parse_measure(*table, codes, errors);
    if (!measure) continue;
    const std::uint32_t line = table->get("id")->source().begin.line;
    if (auto [it, inserted] = first_line.emplace(measure->id, line); !inserted) {
      errors.add(line, fmt::format("duplicate measure id '{}' (first at line {})", measure->id, it->second));
      continue;
    }
    policy.measures.push_back(std::move(*measure));
  }
  return policy;
}

std::optional<SpecialMeasuresPolicy> load_policy_file(const std::string& path, ConfigErrors& errors,
                                                      const PolicyLoadOptions& options) {
  Iso3166Codes codes;
  if (Status s = codes.load(options.iso_codes_dir); !s) {
    errors.add(0, s.message());
    return std::nullopt;
  }
  std::optional<toml::table> root = parse_toml_file(path, errors);
  if (!root) return std::nullopt;
  SpecialMeasuresPolicy policy = parse_policy(*root, codes, errors);
  if (!errors.empty()) return std::nullopt;
  return policy;
}

int check_policy_file(const std::string& path, std::ostream& out, std::ostream& err,
                      const PolicyLoadOptions& options) {
  ConfigErrors errors(path);
  std::optional<SpecialMeasuresPolicy> policy = load_policy_file(path, errors, options);
  if (!policy) {
    err << errors.to_string();
    return 1;
  }
  out << path << ": ok, " << policy->measures.size() << (policy->measures.size() == 1 ? " measure\n" : " measures\n");
  return 0;
}

}  // namespace ipattrib::collector
