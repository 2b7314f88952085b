#include "agent/cluster/event_log.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace galeratop {

std::string_view to_string(event_kind k) {
  switch (k) {
    case event_kind::state: return "state";
    case event_kind::eligibility: return "eligibility";
    case event_kind::advisory: return "advisory";
    case event_kind::operator_action: return "operator";
    case event_kind::drained: return "drained";
    case event_kind::writer: return "writer";
    case event_kind::reload: return "reload";
    case event_kind::rejected: return "rejected";
  }
  return "state";
}

void event_log::add(event e) {
  e.seq = next_seq_++;
  events_.push_back(std::move(e));
  while (events_.size() > capacity_) events_.pop_front();
}

std::vector<event> event_log::since(std::uint64_t seq) const {
  // Numbered without gaps: the first one after `seq` is found by arithmetic, not by a search.
  if (events_.empty() || seq >= events_.back().seq) return {};
  const std::uint64_t first = events_.front().seq;
  const std::size_t skip = seq < first ? 0 : static_cast<std::size_t>(seq - first + 1);
  return {events_.begin() + static_cast<std::ptrdiff_t>(skip), events_.end()};
}

std::optional<event> event_log::newest_of(event_kind kind, std::string_view node) const {
  const auto it = std::find_if(events_.rbegin(), events_.rend(),
                               [&](const event& e) { return e.kind == kind && e.node == node; });
  return it == events_.rend() ? std::nullopt : std::optional<event>(*it);
}

std::vector<event> event_log::last(std::size_t n) const {
  const std::size_t take = std::min(n, events_.size());
  return {events_.end() - static_cast<std::ptrdiff_t>(take), events_.end()};
}

namespace {
const node_snapshot* same_node(const snapshot& s, const node_snapshot& n) {
  auto it = std::ranges::find(s.nodes, n.address, &node_snapshot::address);
  return it == s.nodes.end() ? nullptr : &*it;
}
}  // namespace

std::vector<event> changes_between(const snapshot& before, const snapshot& after) {
  std::vector<event> out;
  auto add = [&](event_kind kind, const std::string& node, std::string message) {
    out.push_back({.seq = 0, .at = after.taken_at, .kind = kind, .node = node, .message = std::move(message), .who = {}});
  };
  for (const node_snapshot& n : after.nodes) {
    const node_snapshot* was = same_node(before, n);
    if (!was) continue;  // added by a reload, which has its own event
    if (was->state != n.state)
      add(event_kind::state, n.name,
          fmt::format("{} -> {}{}: {}", to_string(was->state), to_string(n.state),
                      n.eligible ? ", eligible" : ", not eligible", n.reason));
    else if (was->eligible != n.eligible || was->suspect != n.suspect)
      add(event_kind::eligibility, n.name,
          n.eligible ? fmt::format("eligible ({})", to_string(n.state))
                     : fmt::format("not eligible: {}", exclusion_phrase(n.excluded, n.admin, n.reason)));
    if (n.admin != admin_state::ready && was->admin == n.admin && was->connections > 0 && n.connections == 0)
      add(event_kind::drained, n.name, fmt::format("{}: its last session closed", to_string(n.admin)));
  }
  if (before.writer && after.writer && before.writer->node != after.writer->node) {
    const writer_snapshot& w = *after.writer;
    if (w.node.empty())
      add(event_kind::writer, before.writer->node, fmt::format("writer listeners have no writer: {}", w.why));
    else if (before.writer->node.empty())
      add(event_kind::writer, w.node, fmt::format("writer listeners send to {}: {}", w.node, w.why));
    else
      add(event_kind::writer, w.node, fmt::format("writer moved from {} to {}: {}", before.writer->node, w.node, w.why));
  }
  return out;
}

event advisory_event(const advisory& a, bool raised, std::chrono::system_clock::time_point at) {
  return {.seq = 0,
          .at = at,
          .kind = event_kind::advisory,
          .node = fmt::format("{}", fmt::join(a.nodes, ", ")),
          .message = raised ? fmt::format("{} raised ({}): {}", a.id, to_string(a.severity), a.message)
                            : fmt::format("{} cleared", a.id),
          .who = {}};
}

std::optional<event> rejection_bursts::note(const frontend_snapshot& f, std::chrono::system_clock::time_point now) {
  if (!started_) {  // the counters before the first call are history, not a burst
    started_ = true;
    no_node_ = f.rejected_no_node;
    limit_ = f.rejected_limit;
    return std::nullopt;
  }
  // The first refusal after a quiet spell is told at once (the last event is a pace ago or more);
  // those after it wait for the pace, the tail of a burst included.
  const std::uint64_t no_node = f.rejected_no_node - no_node_;
  const std::uint64_t limit = f.rejected_limit - limit_;
  if (no_node + limit == 0 || now - told_at_ < pace_) return std::nullopt;
  std::vector<std::string> parts;
  if (no_node > 0) parts.push_back(fmt::format("{} with ERR 1047 (no node could take them)", no_node));
  if (limit > 0) parts.push_back(fmt::format("{} with ERR 1040 (max_connections or no descriptor)", limit));
  no_node_ = f.rejected_no_node;
  limit_ = f.rejected_limit;
  told_at_ = now;
  return event{.seq = 0,
               .at = now,
               .kind = event_kind::rejected,
               .node = {},
               .message = fmt::format("{} client(s) refused: {}", no_node + limit, fmt::join(parts, ", ")),
               .who = {}};
}

}  // namespace galeratop
