#include "tui/view_state.hpp"

#include "tui/field_text.hpp"

#include <algorithm>
#include <array>

namespace galeratop {
namespace {
using json = nlohmann::json;

/// Problems first when sorting by state: what needs eyes sorts to the top.
int state_rank(const std::string& s) {
  constexpr std::array order{"down",   "non_primary", "suspect", "unknown",
                             "initialized", "joining", "joined",  "donor", "synced"};
  for (std::size_t i = 0; i < order.size(); ++i)
    if (s == order[i]) return static_cast<int>(i);
  return static_cast<int>(order.size());
}

double per_second(std::uint64_t now, std::uint64_t before, double seconds) {
  return now >= before && seconds > 0 ? static_cast<double>(now - before) / seconds : 0;
}


const json& nodes_of(const json& status) {
  static const json none = json::array();
  auto it = status.find("nodes");
  return it != status.end() && it->is_array() ? *it : none;
}
}  // namespace

void record_status(view_state& v, const json& status, screen_clock::time_point now) {
  for (const json& n : nodes_of(status)) {
    node_history& h = v.history[n.value("address", "")];
    const auto total = n.value("connections_total", std::uint64_t{0});
    const auto in = n.value("bytes_in", std::uint64_t{0});
    const auto out = n.value("bytes_out", std::uint64_t{0});
    const double dt = std::chrono::duration<double>(now - h.counters_at).count();
    if (h.counters_at != screen_clock::time_point{} && dt >= 0.2) {  // shorter gaps make noisy rates
      h.new_per_s = per_second(total, h.total, dt);
      h.in_per_s = per_second(in, h.bytes_in, dt);
      h.out_per_s = per_second(out, h.bytes_out, dt);
    }
    if (h.counters_at == screen_clock::time_point{} || dt >= 0.2) {
      h.total = total, h.bytes_in = in, h.bytes_out = out, h.counters_at = now;
    }
    // One sample per second whatever the refresh interval, so the sparkline always spans a minute.
    if (h.last_sample == screen_clock::time_point{} || now - h.last_sample >= std::chrono::seconds(1)) {
      const auto number = [&](const char* key) {
        auto it = n.find(key);
        return it != n.end() && it->is_number() ? it->get<double>() : 0.0;
      };
      for (auto [series, value] : {std::pair{&h.connections, number("connections")},
                                   std::pair{&h.qps, number("queries_per_second")},
                                   std::pair{&h.p99_ms, number("query_p99_ms")}}) {
        series->push_back(value);
        if (series->size() > node_history::samples) series->pop_front();
      }
      h.last_sample = now;
    }
  }
}

std::vector<const json*> visible_nodes(const view_state& v, const json& status) {
  std::vector<const json*> out;
  for (const json& n : nodes_of(status)) {
    const std::string name = n.value("name", ""), address = n.value("address", "");
    if (v.filter.empty() || name.find(v.filter) != std::string::npos || address.find(v.filter) != std::string::npos)
      out.push_back(&n);
  }
  auto name = [](const json* n) { return n->value("name", ""); };
  std::ranges::stable_sort(out, [&](const json* a, const json* b) {
    switch (v.sort) {
      case sort_key::state: return state_rank(shown_state(*a)) < state_rank(shown_state(*b));
      case sort_key::connections: return a->value("connections", 0u) > b->value("connections", 0u);
      case sort_key::address: return a->value("address", "") < b->value("address", "");
      case sort_key::name: break;
    }
    return name(a) < name(b);
  });
  return out;
}

}  // namespace galeratop
