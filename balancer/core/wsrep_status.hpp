#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace galeratop {

/// One status query result (wsrep_status_query()), typed where health and the
/// cluster model need it; every raw value is kept for the exporter.
struct wsrep_status {
  std::string cluster_status;       ///< "Primary", "non-Primary" or "Disconnected"
  std::string cluster_state_uuid;   ///< identifies the cluster history
  std::uint64_t cluster_conf_id = 0;  ///< membership generation; a lower one than the peers' is a stale view
  std::uint32_t cluster_size = 0;
  int local_state = 0;              ///< 1 Joining, 2 Donor/Desynced, 3 Joined, 4 Synced
  std::string local_state_comment;
  bool ready = false;               ///< wsrep_ready: the node accepts queries
  bool connected = false;           ///< wsrep_connected: the provider is connected to the group
  std::string evs_state;            ///< "OPERATIONAL" in a settled membership; empty if not reported
  std::int64_t last_committed = -1;
  std::string incoming_addresses;   ///< the Primary component's client addresses, comma-separated
  std::map<std::string, std::string, std::less<>> raw;  ///< every row, names lower-cased
};

/// Every wsrep status variable galeratop reads: the typed fields above, the cluster model's
/// and the screen's figures, and the exporter's families. The monitor asks each node for
/// these only, which halves what every check moves, parses and keeps (an idle agent's cost).
std::span<const std::string_view> monitored_wsrep_variables();

/// The monitor's status query: `SHOW GLOBAL STATUS WHERE Variable_name IN (...)` over the list above.
const std::string& wsrep_status_query();

/// Builds the typed view from name/value rows; unknown or malformed values keep their defaults.
wsrep_status parse_wsrep_status(std::span<const std::pair<std::string, std::string>> rows);

/// A status value as mysqld_exporter reads it: ON/YES/Primary are 1, OFF/NO/
/// non-Primary/Disconnected 0, finite numbers as they are; nullopt for any other text (nan, inf too).
std::optional<double> parse_status_value(std::string_view value);

}  // namespace galeratop
