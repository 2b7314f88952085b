#pragma once

#include <chrono>

namespace galeratop {

/// When a subscriber's next status push is due, once a push has been sent. Pushes keep their
/// cadence (`interval` apart from the subscribe on) however often the client asks; a push sent out
/// of turn (something a client waits for has happened: control_server::push_now) leaves the
/// cadence as it was, unless the push on the cadence was due by then anyway. Pure.
std::chrono::steady_clock::time_point next_push(std::chrono::steady_clock::time_point due,
                                               std::chrono::milliseconds interval,
                                               std::chrono::steady_clock::time_point now, bool out_of_turn);

}  // namespace galeratop
