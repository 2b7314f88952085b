#include "agent/writer/shared_writer.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <limits>

#include "agent/store/column_number.hpp"
#include "balancer/core/writer_rule.hpp"

namespace galeratop {
namespace {

const node_record* find_address(std::span<const node_record> nodes, std::string_view address) {
  auto it = std::ranges::find(nodes, address, &node_record::address);
  return it == nodes.end() ? nullptr : &*it;
}

const node_record* find_id(std::span<const node_record> nodes, node_id id) {
  auto it = std::ranges::find(nodes, id, &node_record::id);
  return it == nodes.end() ? nullptr : &*it;
}

/// Why a node cannot write, in a few words: "down", "drain", "donor", "writer_priority 0".
std::string why_not_writer(const node_record& r) {
  const health& h = r.tracker.current();
  if (!h.up || h.state != galera_state::synced) return std::string(to_string(h.state));
  if (r.intent.admin != admin_state::ready) return std::string(describe(r.intent.admin));
  if (r.writer_priority == 0) return "writer_priority 0";
  return "not eligible";
}

/// Whether the node's health is still being decided: never checked, or Synced and rising.
bool deciding(const node_record& r) {
  const health& h = r.tracker.current();
  return h.state == galera_state::unknown || (!h.up && !h.suspect && h.state == galera_state::synced);
}

constexpr std::uint64_t epoch_limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

std::optional<std::chrono::milliseconds> age_of(const std::optional<std::string>& text) {
  auto ms = column_number<std::int64_t>(text);
  if (!ms) return std::nullopt;
  return std::chrono::milliseconds(std::max<std::int64_t>(*ms, 0));  // clocks of two nodes may disagree a little
}

}  // namespace

writer_outcome apply_writer_change(const std::optional<writer_row>& current, const writer_change& c,
                                   std::string_view by) {
  const std::uint64_t at = current ? current->epoch : 0;
  if (at != c.expected_epoch) return {writer_outcome::kind::conflict, current};
  if (current && current->node == c.node) return {writer_outcome::kind::unchanged, current};
  return {writer_outcome::kind::written, writer_row{c.node, at + 1, std::string(by), c.reason, {}}};
}

writer_plan plan_writer(std::span<const node_record> nodes, const writer_facts& f) {
  writer_plan p;
  if (!f.known) {
    p.why = "the writer is not known yet: galeratop.writer has not been read";
    return p;
  }
  const node_record* current = f.row ? find_address(nodes, f.row->node) : nullptr;
  const auto preferred = preferred_writer(nodes);
  if (f.row && !current) {
    // Another agent chose a node this one does not have: following it is impossible, and
    // proposing another would make the two agents take the role from each other in turn.
    p.why = fmt::format("galeratop.writer names {}, which is not a node of this agent", f.row->node);
    return p;
  }
  if (current && can_write(*current)) {
    p.route = current->id;
    if (f.fresh && f.failback && preferred && *preferred != current->id &&
        outranks(*find_id(nodes, *preferred), *current)) {
      p.propose = preferred;
      p.why = fmt::format("failback: {} outranks {}", find_id(nodes, *preferred)->name(), current->name());
    }
    return p;
  }
  p.why = current ? fmt::format("the writer {} is {}", current->name(), why_not_writer(*current))
                  : std::string("no writer has been chosen yet");
  // The first choice waits for every node's first verdict: an agent that has just started sees its
  // nodes rise one by one, and would otherwise choose whichever rose first, not the rule's node.
  if (!current && std::ranges::any_of(nodes, [](const node_record& r) { return deciding(r); })) {
    p.why += "; waiting for every node's first checks";
    return p;
  }
  if (!f.fresh) {
    p.why += "; galeratop.writer cannot be read, so no other writer is chosen";
    return p;
  }
  if (!preferred) {
    p.why += "; no other node can be the writer (Synced, ready, writer_priority > 0)";
    return p;
  }
  p.propose = preferred;
  return p;
}

bool disagrees(const writer_follower& a, const std::optional<writer_row>& row, std::chrono::milliseconds settle) {
  if (!row) return !a.node.empty();
  return row->age >= settle && (a.epoch != row->epoch || a.node != row->node);
}

std::size_t agents_disagreeing(std::span<const writer_follower> agents, std::string_view self,
                               const std::optional<writer_row>& row, std::chrono::milliseconds settle,
                               std::chrono::milliseconds stale) {
  return static_cast<std::size_t>(std::ranges::count_if(agents, [&](const writer_follower& a) {
    return a.agent != self && a.age <= stale && disagrees(a, row, settle);
  }));
}

std::optional<writer_row> parse_writer_row(const std::vector<std::optional<std::string>>& columns,
                                           std::string& error) {
  if (columns.size() != 5) {
    error = fmt::format("expected 5 columns, got {}", columns.size());
    return std::nullopt;
  }
  writer_row r;
  r.node = columns[0].value_or("");
  const auto epoch = column_number<std::uint64_t>(columns[1]);
  const auto age = age_of(columns[4]);
  if (r.node.empty() || !epoch || *epoch == 0 || *epoch >= epoch_limit || !age) {
    error = "node, epoch or age out of range";
    return std::nullopt;
  }
  r.epoch = *epoch;
  r.changed_by = columns[2].value_or("");
  r.reason = columns[3].value_or("");
  r.age = *age;
  return r;
}

std::optional<writer_follower> parse_writer_follower(const std::vector<std::optional<std::string>>& columns,
                                                     std::string& error) {
  if (columns.size() != 4) {
    error = fmt::format("expected 4 columns, got {}", columns.size());
    return std::nullopt;
  }
  writer_follower f;
  f.agent = columns[0].value_or("");
  f.node = columns[1].value_or("");
  const auto epoch = column_number<std::uint64_t>(columns[2]);
  const auto age = age_of(columns[3]);
  if (f.agent.empty() || !epoch || !age) {
    error = "agent, epoch or age out of range";
    return std::nullopt;
  }
  f.epoch = *epoch;
  f.age = *age;
  return f;
}

std::optional<writer_refusal> writer_move_refusal(const node_record& n, const writer_facts& facts,
                                                  std::string_view read_error) {
  if (!can_write(n))
    return writer_refusal{"cannot_write",
                          fmt::format("{} cannot be the writer: it must be Synced, eligible and have a writer_priority "
                                      "above 0 ({} {}{})",
                                      n.name(), to_string(n.tracker.current().state), to_string(n.intent.admin),
                                      n.writer_priority == 0 ? ", writer_priority 0" : "")};
  if (!facts.fresh)
    return writer_refusal{"writer_unknown", fmt::format("galeratop.writer cannot be read now ({}): the writer is not "
                                                        "moved", read_error)};
  return std::nullopt;
}

}  // namespace galeratop
