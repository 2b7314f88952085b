#pragma once

#include <string>
#include <string_view>

#include "agent/monitor/sql_session.hpp"
#include "agent/store/row_cas.hpp"
#include "agent/writer/shared_writer.hpp"

namespace galeratop {

// The SQL of galeratop.writer and galeratop.writer_agents, run by the sync thread (sync_thread) on
// its session (causal reads: wsrep_sync_wait is set on it). Failures are values, never exceptions.

/// Reads the group's writer row and the writer every agent of the group says it follows.
/// A missing table is no writer yet, not an error.
writer_read read_writer(sql_session& s, std::string_view group);

/// The compare-and-set of the group's row: `c` applied by apply_writer_change as agent `by`;
/// store_session::compare_and_set runs it. Its first use creates both tables.
row_cas<writer_row> writer_compare_and_set(std::string group, writer_change c, std::string by);

/// Records which writer this agent follows (empty node: none); false with `error` when it cannot be written.
bool report_following(sql_session& s, std::string_view group, std::string_view agent, const writer_follower& f,
                      std::string& error);

/// Deletes the rows of agents not heard of for an hour (every restart adds one). Best effort: a
/// monitor account without DELETE leaves them, and readers ignore them anyway after 15 s.
void forget_stopped_agents(sql_session& s, std::string_view group);

}  // namespace galeratop
