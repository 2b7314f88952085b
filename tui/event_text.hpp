#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace galeratop {

/// How an event of galeratopd's log reads, in `galeratop events` and in the screen's events
/// pane. Pure: an event object ({"seq", "time", "kind", "node", "message", "who"}) in, one line
/// out, without a newline.
///   2026-12-02T09:30:01.123Z  state     node2  synced -> donor, not eligible: ...
///   09:30:01  operator  node2  admin ready -> drain; 3 connection(s) open (by uid 1000 (pid 4242))
/// `full_time`: the whole UTC time; else only the time of day, as the screen shows it.
std::string event_line(const nlohmann::json& event, bool full_time);

/// "09:30:01" of a time as the agent writes them ("2026-12-02T09:30:01.123Z"): the screen's
/// times, in the events and the node detail; empty when `iso` is not such a time.
std::string time_of_day(std::string_view iso);

}  // namespace galeratop
