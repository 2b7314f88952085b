#include "balancer/close_rules.hpp"

namespace galeratop {
namespace {
bool is_failure(galera_state s) { return s == galera_state::down || s == galera_state::non_primary; }
}  // namespace

bool closes_on_failure(bool close_on_failure, std::optional<galera_state> before, galera_state now) {
  return close_on_failure && is_failure(now) && (!before || !is_failure(*before));
}

admin_followup after_admin_change(admin_state now) {
  switch (now) {
    case admin_state::ready: return admin_followup::keep;
    case admin_state::drain: return admin_followup::close_safe;
    case admin_state::maint: return admin_followup::close_safe_then_cut;
  }
  return admin_followup::keep;
}

std::optional<std::string> close_on_arrival(admin_state node_admin, const std::optional<std::string>& closing_all) {
  if (closing_all) return closing_all;
  if (node_admin != admin_state::ready) return std::string(describe(node_admin));
  return std::nullopt;
}

bool drained(admin_state admin, std::uint32_t connections) { return admin != admin_state::ready && connections == 0; }

}  // namespace galeratop
