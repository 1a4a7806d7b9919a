// A geo database for the generator's own traffic: a small MaxMind DB (City
// shape: country, registered_country, subdivisions) that places the client
// networks ipattrib-gen uses in chosen countries, some of them under the
// default special-measures policy, so a demo or test sees geo fields and
// alerts without third-party data. The networks are documentation and
// shared-address ranges; the placement is fiction and says so in the file's
// description.
#pragma once

#include <string>

#include "ipattrib/status.h"

namespace ipattrib::bench {

// 203.0.113.0/24 -> IR; 2001:db8:1000::/36 -> UA, subdivision UA-43 (Crimea);
// 2001:db8:2000::/36 -> RU; the rest of 2001:db8::/32 -> NL;
// 198.18.0.0/15 -> US; 100.64.0.0/10 -> DE.
Status write_demo_geo_db(const std::string& path);

}  // namespace ipattrib::bench
