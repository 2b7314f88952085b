#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "balancer/core/galera_state.hpp"
#include "balancer/core/weight.hpp"

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

  /// The weight a node is balanced with under this intent: the override, else `configured`.
  /// The one definition of a node's effective weight.
  std::uint32_t effective_weight(std::uint32_t configured) const { return weight.value_or(configured); }
  /// True when it says nothing the configuration does not (ready, no weight) and the cluster knows no row.
  bool is_default() const { return admin == admin_state::ready && !weight && !pending && version == 0; }
  /// True when it routes the same way as `o` (admin and weight), whatever the bookkeeping.
  bool same_effect(const intent& o) const { return admin == o.admin && weight == o.weight; }
  friend bool operator==(const intent&, const intent&) = default;
};

}  // namespace galeratop
