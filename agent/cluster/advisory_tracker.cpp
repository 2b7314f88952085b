#include "agent/cluster/advisory_tracker.hpp"

#include <algorithm>

namespace galeratop {
namespace {
std::string key_of(const advisory& a) {
  std::string key = a.id;
  for (const auto& n : a.nodes) key += '\x1f' + n;
  return key;
}
}  // namespace

advisory_tracker::changes advisory_tracker::update(std::span<const advisory> holding, mono_clock::time_point now) {
  changes out;
  for (const advisory& a : holding) {
    auto [it, fresh] = entries_.try_emplace(key_of(a), entry{a, now, now, false});
    entry& e = it->second;
    // A gap of more than one clear period starts a new run; a shorter gap is a flap and keeps the run.
    if (!fresh && !e.active && now - e.last_seen > clear_after_) e.first_seen = now;
    e.latest = a;
    e.last_seen = now;
    if (!e.active && now - e.first_seen >= raise_after_(a.id)) {
      e.active = true;
      out.raised.push_back(a);
    }
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    entry& e = it->second;
    if (e.last_seen == now || now - e.last_seen < clear_after_) {
      ++it;
      continue;
    }
    if (e.active) out.cleared.push_back(e.latest);
    it = entries_.erase(it);
  }
  return out;
}

std::vector<advisory> advisory_tracker::active() const {
  std::vector<advisory> out;
  for (const auto& [key, e] : entries_)
    if (e.active) out.push_back(e.latest);
  std::ranges::stable_sort(out, [](const advisory& a, const advisory& b) { return a.severity > b.severity; });
  return out;
}

}  // namespace galeratop
