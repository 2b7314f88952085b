// The only file that includes <mysql.h> (DESIGN section 3).
#include "agent/monitor/mysql_session.hpp"

#include <atomic>
#include <mysql.h>

#include "balancer/core/log.hpp"

namespace galeratop {
namespace {
struct result_freer {
  void operator()(MYSQL_RES* r) const { mysql_free_result(r); }
};
using result = std::unique_ptr<MYSQL_RES, result_freer>;

// Threads between thread_init() and thread_end(): the library must not end while any is left.
std::atomic<int> threads_in_library{0};
}  // namespace

mysql_session::library::library() { mysql_library_init(0, nullptr, nullptr); }

mysql_session::library::~library() {
  if (const int left = threads_in_library.load(); left > 0)
    log_error("Connector/C ended while {} thread(s) still used it: the shutdown order is wrong", left);
  mysql_library_end();
}

void mysql_session::thread_init() {
  mysql_thread_init();
  ++threads_in_library;
}

void mysql_session::thread_end() {
  mysql_thread_end();
  --threads_in_library;
}

std::unique_ptr<mysql_session> mysql_session::open(const mysql_login& login, std::string& error) {
  MYSQL* m = mysql_init(nullptr);
  if (!m) {
    error = "out of memory in mysql_init";
    return nullptr;
  }
  std::unique_ptr<mysql_session> s(new mysql_session(m));
  // Every call gets a timeout: a frozen node accepts TCP and never answers (DESIGN section 5).
  const unsigned timeout = static_cast<unsigned>(login.timeout.count());
  const unsigned protocol = MYSQL_PROTOCOL_TCP;  // "localhost" would otherwise mean the unix socket
  mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
  mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
  mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &protocol);
  if (!mysql_real_connect(m, login.address.host.c_str(), login.user.c_str(), login.password.c_str(), nullptr,
                          login.address.port,
                          nullptr, 0)) {
    error = mysql_error(m);
    return nullptr;
  }
  return s;
}

mysql_session::~mysql_session() { mysql_close(m_); }

void mysql_session::fail(std::string& error) {
  last_errno_ = mysql_errno(m_);
  error = mysql_error(m_);
}

std::optional<std::vector<mysql_row>> mysql_session::query(const std::string& sql, std::string& error) {
  last_errno_ = 0;
  if (mysql_real_query(m_, sql.data(), sql.size()) != 0) {
    fail(error);
    return std::nullopt;
  }
  result res(mysql_store_result(m_));
  if (!res) {
    if (mysql_errno(m_))
      fail(error);
    else
      error = "the statement returned no rows";
    return std::nullopt;
  }
  std::vector<mysql_row> rows;
  const unsigned fields = mysql_num_fields(res.get());
  while (MYSQL_ROW row = mysql_fetch_row(res.get())) {
    mysql_row& out = rows.emplace_back();
    for (unsigned i = 0; i < fields; ++i) out.push_back(row[i] ? mysql_value(row[i]) : std::nullopt);
  }
  return rows;
}

std::optional<std::uint64_t> mysql_session::execute(const std::string& sql, std::string& error) {
  last_errno_ = 0;
  if (mysql_real_query(m_, sql.data(), sql.size()) != 0) {
    fail(error);
    return std::nullopt;
  }
  result ignored(mysql_store_result(m_));  // a statement that did return rows must not leave them pending
  return static_cast<std::uint64_t>(mysql_affected_rows(m_));
}

std::string mysql_session::quote(std::string_view text) const {
  std::string out(text.size() * 2 + 1, '\0');
  const auto n = mysql_real_escape_string(m_, out.data(), text.data(), static_cast<unsigned long>(text.size()));
  out.resize(n);
  return "'" + out + "'";
}

}  // namespace galeratop
