#include "agent/store/store_session.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace galeratop {

store_session::store_session(opener open, clock now) : open_(std::move(open)), now_(std::move(now)) {}

std::unique_ptr<sql_session> store_session::open_mysql(const mysql_login& login, std::string& error) {
  return mysql_session::open(login, error);
}

sql_session* store_session::connect(const std::vector<mysql_login>& nodes, std::string& error) {
  if (session_ && std::ranges::find(nodes, login_) != nodes.end()) return session_.get();
  session_.reset();
  if (nodes.empty()) {
    error = "no node is synced and up";
    return nullptr;
  }
  // Round the list from where the last failure left off, so that one bad node is not retried first forever.
  for (std::size_t tried = 0; tried < nodes.size() && tried < 2; ++tried) {
    const mysql_login& l = nodes[next_node_++ % nodes.size()];
    std::string why;
    auto s = open_(l, why);
    // Reads wait until the node has applied every change committed before them (causal reads),
    // so that a row written through another node is never read back older.
    if (s && s->execute("SET SESSION wsrep_sync_wait = 1, innodb_lock_wait_timeout = 2", why)) {
      session_ = std::move(s);
      login_ = l;
      return session_.get();
    }
    error = fmt::format("{}: {}", l.address.to_string(), why);
  }
  return nullptr;
}

}  // namespace galeratop
