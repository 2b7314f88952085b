#pragma once

#include <string>
#include <string_view>

#include "agent/intents/shared_intent.hpp"
#include "agent/monitor/sql_session.hpp"
#include "agent/store/row_cas.hpp"

namespace galeratop {

// The SQL of galeratop.intents, run by the sync thread (sync_thread) on its session, which has
// causal reads (wsrep_sync_wait). Failures are values, never exceptions.

/// Reads the group's rows; a missing table is an empty one, not an error. `from` is left to the caller.
intent_read read_intents(sql_session& s, std::string_view group);

/// The compare-and-set of the row of `change.node` in the group: `change` applied by
/// apply_change as agent `by`; store_session::compare_and_set runs it.
row_cas<shared_intent> intent_compare_and_set(std::string group, intent_change change, std::string by);

}  // namespace galeratop
