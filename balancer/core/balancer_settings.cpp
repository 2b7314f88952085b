#include "balancer/core/balancer_settings.hpp"

namespace galeratop {
namespace {
template <class Enum, std::size_t N>
std::string_view name_in(const std::array<std::pair<Enum, std::string_view>, N>& names, Enum v) {
  for (const auto& [value, name] : names)
    if (value == v) return name;
  return names.front().second;
}
}  // namespace

std::string_view to_string(balance_policy p) { return name_in(balance_policy_names, p); }
std::string_view to_string(donor_policy p) { return name_in(donor_policy_names, p); }
std::string_view to_string(listener_role r) { return name_in(listener_role_names, r); }
std::string_view to_string(io_backend b) { return name_in(io_backend_names, b); }

}  // namespace galeratop
