#include "agent/intents/shared_intent.hpp"

#include <fmt/format.h>
#include <limits>

#include "agent/store/column_number.hpp"

namespace galeratop {

intent with_change(intent i, const intent_change& c) {
  if (c.admin && *c.admin != i.admin) {
    i.admin = *c.admin;
    i.since = c.at;
  }
  if (c.weight) i.weight = *c.weight;
  return i;
}

change_outcome apply_change(const std::optional<shared_intent>& current, const intent_change& c, std::string_view by) {
  const std::uint64_t at = current ? current->version : 0;
  if (c.expected_version && *c.expected_version != at) return {change_outcome::kind::conflict, current};
  shared_intent next = current.value_or(shared_intent{c.node, {}, 0, {}});
  next.value = with_change(next.value, c);
  // A command that changes nothing writes nothing: versions count changes, not requests.
  if (current && next.value.same_effect(current->value)) return {change_outcome::kind::unchanged, current};
  if (!current && next.value.admin == admin_state::ready && !next.value.weight)
    return {change_outcome::kind::unchanged, std::nullopt};
  next.version = at + 1;
  next.value.version = next.version;
  next.value.pending = false;
  next.changed_by = std::string(by);
  return {change_outcome::kind::written, next};
}

reconcile_action reconcile(const intent& local, const std::optional<shared_intent>& row, bool table_exists) {
  if (!table_exists) {
    if (local.admin != admin_state::ready || local.weight) return reconcile_action::push;
    return local.is_default() ? reconcile_action::none : reconcile_action::adopt;  // same effect, bookkeeping cleared
  }
  const std::uint64_t at = row ? row->version : 0;
  if (local.pending) return at == local.version ? reconcile_action::push : reconcile_action::drop_and_adopt;
  if (!row) {
    // An intent from before sharing (version 0) is offered to the cluster; one whose row has
    // gone (a DBA deleted it) follows the table, which is the truth.
    if (local.version == 0) return local.is_default() ? reconcile_action::none : reconcile_action::push;
    return reconcile_action::adopt;
  }
  return local.version == at && local.same_effect(row->value) ? reconcile_action::none : reconcile_action::adopt;
}

intent adopted(const std::optional<shared_intent>& row) {
  if (!row) return intent{};
  intent i = row->value;
  i.version = row->version;
  i.pending = false;
  return i;
}

std::optional<shared_intent> parse_shared_intent(const std::vector<std::optional<std::string>>& columns,
                                                 std::string& error) {
  if (columns.size() != 6) {
    error = "expected 6 columns, got " + std::to_string(columns.size());
    return std::nullopt;
  }
  shared_intent r;
  if (!columns[0] || columns[0]->empty()) {
    error = "no node";
    return std::nullopt;
  }
  r.node = *columns[0];
  const auto admin = columns[1] ? admin_state_from_string(*columns[1]) : std::nullopt;
  if (!admin) {
    error = r.node + ": unknown admin state";
    return std::nullopt;
  }
  r.value.admin = *admin;
  if (columns[2]) {
    const auto w = column_number<std::uint32_t>(columns[2]);
    if (!w || !valid_weight(*w)) {
      error = fmt::format("{}: weight must be {}", r.node, weight_rule);
      return std::nullopt;
    }
    r.value.weight = *w;
  }
  const auto since = column_number<std::int64_t>(columns[3]);
  const auto version = column_number<std::uint64_t>(columns[4]);
  // Versions stay below 2^63 - 1: the state file keeps them as JSON integers, and one more must still fit.
  if (!since || *since < 0 || *since > latest_since_ms || !version || *version == 0 ||
      *version >= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    error = r.node + ": since or version out of range";
    return std::nullopt;
  }
  r.value.since = std::chrono::system_clock::time_point(std::chrono::milliseconds(*since));
  r.version = *version;
  r.value.version = *version;
  r.changed_by = columns[5].value_or("");
  return r;
}

}  // namespace galeratop
