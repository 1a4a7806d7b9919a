#include "bench/generator/demo_geo_db.h"

#include <ctime>
#include <stdexcept>

#include "tests/support/mmdb_writer.h"

namespace ipattrib::bench {
namespace {

using test_support::MmdbValue;

MmdbValue place(const char* country, const char* subdivision = nullptr) {
  std::vector<MmdbValue::Entry> entries = {{"country", MmdbValue::map({{"iso_code", country}})},
                                           {"registered_country", MmdbValue::map({{"iso_code", country}})}};
  if (subdivision != nullptr) {
    entries.emplace_back("subdivisions", MmdbValue::array({MmdbValue::map({{"iso_code", subdivision}})}));
  }
  return MmdbValue::map(std::move(entries));
}

}  // namespace

Status write_demo_geo_db(const std::string& path) {
  test_support::MmdbWriter writer;
  try {
    writer.add("2001:db8::/32", place("NL"));
    writer.add("2001:db8:1000::/36", place("UA", "43"));  // later adds win for what they cover
    writer.add("2001:db8:2000::/36", place("RU"));
    writer.add("::198.18.0.0/111", place("US"));
    writer.add("::100.64.0.0/106", place("DE"));
    writer.add("::203.0.113.0/120", place("IR"));
  } catch (const std::invalid_argument& e) {
    return Status::error(std::string("demo geo db: ") + e.what());
  }
  return writer.write(path, "GeoIP2-City", static_cast<std::uint64_t>(std::time(nullptr)), {"en"},
                      "ipattrib-gen demo: fictional placement of documentation and shared-address networks");
}

}  // namespace ipattrib::bench
