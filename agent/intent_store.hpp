#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "galera_state.hpp"

namespace galeratop {

/// The latest `since` an intent can hold, in milliseconds since 1970: the clock counts nanoseconds
/// in 64 bits, so later ones (year 2262) overflow it. Files and rows from outside are checked against it.
inline constexpr std::int64_t latest_since_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::duration::max()).count();

/// An operator's intent for one node. Health never writes it; it never writes health.
struct intent {
  admin_state admin = admin_state::ready;
  std::optional<std::uint32_t> weight;  ///< overrides the configured weight while set
  std::chrono::system_clock::time_point since{};  ///< when `admin` last changed
  /// The version of the cluster's row (galeratop.intents) this intent is, or was changed from
  /// while the cluster could not be written; 0 = no row.
  std::uint64_t version = 0;
  bool pending = false;  ///< changed here while the cluster could not be written; not shared yet

  /// True when it says nothing the configuration does not (ready, no weight) and the cluster knows no row.
  bool is_default() const { return admin == admin_state::ready && !weight && !pending && version == 0; }
  /// True when it routes the same way as `o` (admin and weight), whatever the bookkeeping.
  bool same_effect(const intent& o) const { return admin == o.admin && weight == o.weight; }
  friend bool operator==(const intent&, const intent&) = default;
};

/// Every node's intent, by configured address (the identity that survives reloads and
/// restarts; a name can come from the node itself). Pure; the agent persists it.
class intent_store {
 public:
  /// The node's intent; the default (ready, configured weight) when none was given.
  intent get(std::string_view address) const;
  /// Sets the admin state; `since` moves only when it changes. Returns true when something changed.
  bool set_admin(const std::string& address, admin_state admin, std::chrono::system_clock::time_point now);
  /// Sets or (nullopt) clears the weight override. Returns true when something changed.
  bool set_weight(const std::string& address, std::optional<std::uint32_t> weight);
  /// Replaces the node's whole intent (one taken from the cluster, or a pending one).
  void set(const std::string& address, const intent& i) { put(address, i); }

  /// JSON text for the state file.
  std::string serialize() const;
  /// Restores from the state file's text; false (and nothing changed) when it is not valid.
  bool restore(std::string_view json, std::string& error);

  /// The intents that differ from the default, by address.
  const std::map<std::string, intent, std::less<>>& all() const { return intents_; }

 private:
  void put(const std::string& address, intent i);
  std::map<std::string, intent, std::less<>> intents_;  // invariant: no default intent is stored
};

}  // namespace galeratop
