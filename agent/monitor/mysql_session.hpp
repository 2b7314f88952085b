#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/endpoint.hpp"
#include "agent/monitor/sql_session.hpp"

struct st_mysql;

namespace galeratop {

/// Where and how to log in to one node.
struct mysql_login {
  endpoint address;  ///< HOST:PORT as configured
  std::string user;
  std::string password;  ///< from a password file; never logged
  std::chrono::seconds timeout{1};  ///< connect, read and write timeout of every call

  friend bool operator==(const mysql_login&, const mysql_login&) = default;
};

/// A blocking Connector/C connection with a timeout on every call. The only user of <mysql.h>
/// (DESIGN section 3): every client library error comes back as a value with its error number,
/// never as an exception. Used from one thread at a time (a monitor's or the sync thread's).
class mysql_session final : public sql_session {
 public:
  /// Connects over TCP; nullptr with `error` when it cannot.
  static std::unique_ptr<mysql_session> open(const mysql_login& login, std::string& error);
  ~mysql_session() override;

  /// sql_session::query, through Connector/C.
  std::optional<std::vector<mysql_row>> query(const std::string& sql, std::string& error) override;
  /// sql_session::execute, through Connector/C.
  std::optional<std::uint64_t> execute(const std::string& sql, std::string& error) override;
  /// sql_session::last_errno: mysql_errno of the last failed call.
  unsigned last_errno() const override { return last_errno_; }
  /// sql_session::quote: mysql_real_escape_string, in quotes.
  std::string quote(std::string_view text) const override;

  /// Connector/C for the life of the process: mysql_library_init when it is made (it is not
  /// thread-safe: before any thread uses a session), mysql_library_end when it goes. Make one
  /// before every thread that uses sessions and let it go after the last of them has ended:
  /// ending the library under a thread that still holds a connection frees what it uses.
  class library {
   public:
    library();
    /// Ends the library; logs an error if a thread still uses it (a bug in the shutdown order).
    ~library();
    library(const library&) = delete;
    library& operator=(const library&) = delete;
  };
  /// Once on every thread that uses a session, before the first and after the last.
  static void thread_init();
  static void thread_end();

 private:
  explicit mysql_session(st_mysql* m) : m_(m) {}
  /// Records the failed call's error number and message.
  void fail(std::string& error);
  st_mysql* m_;
  unsigned last_errno_ = 0;
};

}  // namespace galeratop
