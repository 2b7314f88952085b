#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/intents/shared_writer.hpp"
#include "agent/monitor/mysql_session.hpp"

namespace galeratop {

// The SQL of galeratop.writer and galeratop.writer_agents, run by the intent sync's thread on its
// session (causal reads: wsrep_sync_wait is set on it). Failures are values, never exceptions.

/// Reads the group's writer row and the writer every agent of the group says it follows.
/// A missing table is no writer yet, not an error.
writer_read read_writer(mysql_session& s, std::string_view group);

/// One attempt at a compare-and-set of the group's row, in one transaction; nullopt when it
/// should be retried (another node's transaction won certification, or the table was just
/// created, which `created` records so that it happens once).
std::optional<writer_write> try_write_writer(mysql_session& s, std::string_view group, const writer_change& c,
                                             std::string_view by, bool& created);

/// Records which writer this agent follows (empty node: none); false with `error` when it cannot be written.
bool report_following(mysql_session& s, std::string_view group, std::string_view agent, const writer_follower& f,
                      std::string& error);

/// Deletes the rows of agents not heard of for an hour (every restart adds one). Best effort: a
/// monitor account without DELETE leaves them, and readers ignore them anyway after 15 s.
void forget_stopped_agents(mysql_session& s, std::string_view group);

}  // namespace galeratop
