#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "balancer/core/intent.hpp"

namespace galeratop {

/// Every node's intent as the state file keeps it, by configured address (the identity that
/// survives reloads and restarts; a name can come from the node itself). The node records hold
/// the intents in force; this keeps them across restarts, and for a node a reload removed until
/// it comes back. Pure; the agent persists it.
class intent_store {
 public:
  /// The node's intent; the default (ready, configured weight) when none was given.
  intent get(std::string_view address) const;
  /// Makes `i` the node's intent; true when that changed something.
  bool set(const std::string& address, const intent& i);

  /// JSON text for the state file.
  std::string serialize() const;
  /// Restores from the state file's text; false (and nothing changed) when it is not valid.
  bool restore(std::string_view json, std::string& error);

  /// The intents that differ from the default, by address.
  const std::map<std::string, intent, std::less<>>& all() const { return intents_; }

 private:
  std::map<std::string, intent, std::less<>> intents_;  // invariant: no default intent is stored
};

}  // namespace galeratop
