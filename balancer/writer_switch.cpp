#include "balancer/writer_switch.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <map>
#include <vector>

#include "balancer/core/log.hpp"
#include "balancer/session_io.hpp"

namespace galeratop {
namespace {
/// The relayed writer-listener sessions `route` no longer wants, by node.
std::map<node_id, std::vector<session_id>> stray_relayed(const session_registry& sessions, const writer_route& route) {
  std::map<node_id, std::vector<session_id>> by_node;
  sessions.each([&](const session_record& s) {
    if (s.writer_listener && s.phase == session_phase::relayed && route.strays(s.node)) by_node[s.node].push_back(s.id);
  });
  return by_node;
}
}  // namespace

writer_switch::writer_switch(asio::io_context& io, const balancer_settings& settings, const routing_table& table,
                             session_registry& sessions, relay& r, std::function<void()> settled)
    : io_(io), settings_(settings), table_(table), sessions_(sessions), relay_(r), settled_(std::move(settled)) {}

std::size_t writer_switch::strays() const {
  return sessions_.count([this](const session_record& s) {
    return s.writer_listener && s.phase != session_phase::placing && route_.strays(s.node);
  });
}

std::size_t writer_switch::held() const {
  if (sessions_.held() == 0) return 0;  // asked at every publish: mostly nobody waits
  return sessions_.count([](const session_record& s) { return s.held && s.writer_listener; });
}

void writer_switch::set(std::optional<node_id> writer, std::string why) {
  if (!route_.route_to(writer, std::move(why))) return;
  // One still dialing the old writer is closed at once: it has sent nothing yet.
  for (const session_id id : sessions_.select([this](const session_record& s) {
         return s.writer_listener && s.phase == session_phase::dialing && route_.strays(s.node);
       }))
    sessions_.find(id)->io->close(id, "no longer the writer");
  for (auto& [node, ids] : stray_relayed(sessions_, route_)) {
    const std::string name = table_.name_of(node);
    log_info("node {}: closing {} writer-listener session(s) at their next safe point because it is no longer the "
             "writer", name, ids.size());
    relay_.close(std::move(ids), {.at = relay::close_order::when::safe_point, .node = name, .why = "no longer the writer"});
  }
  if (route_.settle(strays()))
    settled_();
  else
    asio::co_spawn(io_, end_barrier(route_.generation), asio::detached);
}

void writer_switch::session_left() {
  if (!route_.settled && route_.settle(strays())) settled_();
}

asio::awaitable<void> writer_switch::end_barrier(std::uint64_t generation) {
  asio::steady_timer timer(io_, settings_.writer_barrier);
  co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  if (stopping_ || !route_.barrier_due(generation)) co_return;
  // What is left has not reached a safe point in time: it is cut, so that it cannot write beside the new writer.
  for (auto& [node, ids] : stray_relayed(sessions_, route_)) {
    const std::string name = table_.name_of(node);
    log_info("node {}: cutting {} writer-listener session(s): no safe point within the writer barrier ({} ms)", name,
             ids.size(), settings_.writer_barrier.count());
    relay_.close(std::move(ids), {.at = relay::close_order::when::now,
                                  .node = name,
                                  .why = "no longer the writer: the switch cut its sessions at its barrier"});
  }
}

}  // namespace galeratop
