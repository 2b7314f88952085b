#include "balancer/close_point.hpp"

namespace galeratop {
namespace {
constexpr std::uint8_t com_ping = 0x0e;
}  // namespace

bool at_close_point(const session_tracker& t, bool server_spoke_last, const close_timing& timing) {
  if (t.opaque()) return server_spoke_last && timing.quiet >= timing.idle;
  return t.at_safe_point() &&
         (timing.quiet >= timing.idle || (timing.waited >= timing.patience && t.last_command() != com_ping));
}

}  // namespace galeratop
