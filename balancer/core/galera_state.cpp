#include "balancer/core/galera_state.hpp"

#include <array>
#include <utility>

namespace galeratop {
namespace {
constexpr std::array<std::pair<galera_state, std::string_view>, 8> state_names{{
    {galera_state::unknown, "unknown"},
    {galera_state::down, "down"},
    {galera_state::non_primary, "non_primary"},
    {galera_state::initialized, "initialized"},
    {galera_state::joining, "joining"},
    {galera_state::joined, "joined"},
    {galera_state::donor, "donor"},
    {galera_state::synced, "synced"},
}};
}  // namespace

std::string_view to_string(galera_state s) {
  for (const auto& [state, name] : state_names)
    if (state == s) return name;
  return "unknown";
}

std::string_view describe(admin_state s) {
  switch (s) {
    case admin_state::ready: return "ready";
    case admin_state::drain: return "drained";
    case admin_state::maint: return "in maintenance";
  }
  return "ready";
}

std::string_view to_string(admin_state s) {
  switch (s) {
    case admin_state::ready: return "ready";
    case admin_state::drain: return "drain";
    case admin_state::maint: return "maint";
  }
  return "ready";
}

std::optional<admin_state> admin_state_from_string(std::string_view s) {
  for (admin_state a : {admin_state::ready, admin_state::drain, admin_state::maint})
    if (to_string(a) == s) return a;
  return std::nullopt;
}

}  // namespace galeratop
