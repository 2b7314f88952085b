#include "agent/control/push_cadence.hpp"

namespace galeratop {

std::chrono::steady_clock::time_point next_push(std::chrono::steady_clock::time_point due,
                                               std::chrono::milliseconds interval,
                                               std::chrono::steady_clock::time_point now, bool out_of_turn) {
  return !out_of_turn || now >= due ? due + interval : due;
}

}  // namespace galeratop
