#include "collector/ledger/ledger_config.h"

#include <libpq-fe.h>

#include <memory>

namespace ipattrib::collector {

namespace {

// The DSN is checked with libpq's own parser, so what passes here is what
// the store will connect with; a password in it is refused without echoing it.
void parse_postgresql_keys(const toml::table& section, ConfigErrors& errors, LedgerConfig& config) {
  if (auto dsn = errors.get_string(section, "postgresql_dsn")) {
    char* message = nullptr;
    std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> options(PQconninfoParse(dsn->c_str(), &message),
                                                                           &PQconninfoFree);
    if (options == nullptr) {
      std::string why = message != nullptr ? message : "out of memory";
      while (!why.empty() && why.back() == '\n') why.pop_back();
      errors.add_at(*section.get("postgresql_dsn"), "[ledger] postgresql_dsn is not a libpq connection string: " + why);
    } else {
      bool has_password = false;
      for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
        has_password |= std::string_view(o->keyword) == "password" && o->val != nullptr;
      }
      if (has_password) {
        errors.add_at(*section.get("postgresql_dsn"),
                      "[ledger] postgresql_dsn must not contain a password: use postgresql_password_file or the "
                      "PGPASSWORD environment variable");
      } else {
        config.postgresql_dsn = *dsn;
      }
    }
    PQfreemem(message);
  }
  if (auto path = errors.get_string(section, "postgresql_password_file")) config.postgresql_password_file = *path;
  if (auto n = errors.get_int(section, "postgresql_connections", 1, 64)) {
    config.postgresql_connections = static_cast<std::uint32_t>(*n);
  }
  if (config.store == LedgerStoreKind::kPostgresql && config.postgresql_dsn.empty() &&
      section.get("postgresql_dsn") == nullptr) {
    errors.add_at(section, "[ledger] store = \"postgresql\" needs postgresql_dsn");
  }
}

}  // namespace

LedgerConfig parse_ledger_config(const toml::table& section, ConfigErrors& errors) {
  LedgerConfig config;
  errors.reject_unknown_keys(section,
                             {"store", "sqlite_path", "busy_timeout_ms", "retention_days", "retention_interval_s",
                              "postgresql_dsn", "postgresql_password_file", "postgresql_connections"},
                             "[ledger]");
  if (auto store = errors.get_string(section, "store")) {
    if (*store == "postgresql") {
      config.store = LedgerStoreKind::kPostgresql;
    } else if (*store != "sqlite") {
      errors.add_at(*section.get("store"),
                    "[ledger] store must be \"sqlite\" or \"postgresql\" (got \"" + *store + "\")");
    }
  }
  parse_postgresql_keys(section, errors, config);
  if (auto path = errors.get_string(section, "sqlite_path")) {
    if (path->empty()) {
      errors.add_at(*section.get("sqlite_path"), "[ledger] sqlite_path must not be empty");
    } else {
      config.sqlite_path = *path;
    }
  }
  if (auto n = errors.get_int(section, "busy_timeout_ms", 0, 600000))
    config.busy_timeout_ms = static_cast<std::uint32_t>(*n);
  if (auto n = errors.get_int(section, "retention_days", 0, 36500))
    config.retention_days = static_cast<std::uint32_t>(*n);
  if (auto n = errors.get_int(section, "retention_interval_s", 60, 604800)) {
    config.retention_interval_s = static_cast<std::uint32_t>(*n);
  }
  return config;
}

}  // namespace ipattrib::collector
