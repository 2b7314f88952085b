#include "balancer/core/eligibility.hpp"

#include <fmt/format.h>

namespace galeratop {

exclusion exclusion_of(bool eligible, const health& h, admin_state admin, bool intents_known, std::uint32_t weight) {
  if (eligible) return exclusion::none;
  if (h.suspect) return exclusion::suspect;
  if (!h.up) return exclusion::unhealthy;
  if (admin != admin_state::ready) return exclusion::admin;
  if (!intents_known) return exclusion::awaiting_intents;
  if (weight == 0) return exclusion::weight_0;
  return exclusion::avoided;
}

std::string_view exclusion_word(exclusion e, admin_state admin) {
  switch (e) {
    case exclusion::none: return "eligible";
    case exclusion::suspect: return "suspect";
    case exclusion::unhealthy: return "not-eligible";
    case exclusion::admin: return to_string(admin);
    case exclusion::awaiting_intents: return "awaiting-intents";
    case exclusion::weight_0: return "weight-0";
    case exclusion::avoided: return "avoided";
  }
  return "not-eligible";
}

std::string exclusion_phrase(exclusion e, admin_state admin, std::string_view reason) {
  switch (e) {
    case exclusion::none: return "eligible";
    case exclusion::suspect: return fmt::format("suspect: {}", reason);
    case exclusion::unhealthy: return std::string(reason);
    case exclusion::admin: return std::string(to_string(admin));
    case exclusion::awaiting_intents: return "waiting for the operators' shared intents";
    case exclusion::weight_0: return "weight 0";
    case exclusion::avoided: return "avoided: another node can take its clients (donor policy)";
  }
  return std::string(reason);
}

}  // namespace galeratop
