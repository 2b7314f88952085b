#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "agent/cluster/snapshot.hpp"

namespace galeratop {

/// What galeratopd last saw of each node while it was in a Primary component,
/// kept across restarts, so that after a whole-cluster outage it can name the
/// node to bootstrap (the one with the highest seqno of the last Primary
/// component: the trap behind `safe_to_bootstrap: 0`). Pure; the agent persists it.
class bootstrap_memory {
 public:
  /// One node's last Primary sighting.
  struct record {
    std::string name;
    std::string uuid;              ///< wsrep_cluster_state_uuid
    std::int64_t seqno = -1;       ///< wsrep_last_committed
    std::uint64_t conf_id = 0;     ///< wsrep_cluster_conf_id; within one uuid, higher is later
    std::int64_t seen_at = 0;      ///< unix seconds, for the evidence shown to people

    friend bool operator==(const record&, const record&) = default;
  };

  /// Notes every node seen in a Primary component; returns true when a record
  /// changed in a way worth persisting at once (uuid, membership, name), false
  /// when only seqnos moved (the caller persists those at its own pace).
  bool note(std::span<const node_snapshot> nodes, std::chrono::system_clock::time_point now);

  /// True when something changed since the last `serialize()`.
  bool dirty() const { return dirty_; }

  /// The node to bootstrap when every configured node is down; nullopt otherwise
  /// or when no configured node was ever seen in a Primary component.
  std::optional<bootstrap_candidate> candidate(std::span<const node_snapshot> nodes) const;

  /// JSON text for the state file; clears `dirty()`.
  std::string serialize();
  /// Restores from the state file's text; false (and nothing changed) when it is not valid.
  bool restore(std::string_view json, std::string& error);

  /// The records, by address.
  const std::map<std::string, record, std::less<>>& records() const { return records_; }

 private:
  std::map<std::string, record, std::less<>> records_;
  bool dirty_ = false;
};

}  // namespace galeratop
