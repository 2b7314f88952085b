#pragma once

#include <string>

#include "agent/monitor/sql_session.hpp"

namespace galeratop {

// What the SQL of galeratop's rows reacts to (mysqld_error.h), in one place for every table.

inline constexpr unsigned er_bad_db = 1049;         ///< no schema `galeratop` yet
inline constexpr unsigned er_no_such_table = 1146;  ///< no table yet
inline constexpr unsigned er_lock_deadlock = 1213;  ///< also Galera's certification failure: another node won
inline constexpr unsigned er_lock_wait_timeout = 1205;  ///< another transaction held the row's lock too long

/// The schema or the table does not exist yet: nobody has written to it.
inline bool table_missing(unsigned e) { return e == er_no_such_table || e == er_bad_db; }
/// Another transaction won (certification or a row lock): read again and retry.
inline bool lost_a_race(unsigned e) { return e == er_lock_deadlock || e == er_lock_wait_timeout; }

/// Ends the open transaction without its changes; if that fails the connection is gone and the next statement says so.
inline void roll_back(sql_session& s) {
  std::string ignored;
  s.execute("ROLLBACK", ignored);
}

}  // namespace galeratop
