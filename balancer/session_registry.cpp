#include "balancer/session_registry.hpp"

#include <cassert>

namespace galeratop {

session_record& session_registry::open(std::size_t listener, bool writer_listener) {
  const session_id id = next_id_++;
  if (per_listener_.size() <= listener) per_listener_.resize(listener + 1);
  // Ids only grow: every new session goes at the end of the map.
  return sessions_.emplace_hint(sessions_.end(), id,
                                session_record{.id = id, .listener = listener, .writer_listener = writer_listener})
      ->second;
}

void session_registry::attach(session_record& s, node_id node) {
  assert(s.node == 0 && "a session dials one node at a time: detach() from the last one first");
  s.node = node;
  s.phase = session_phase::dialing;
  if (node_record* r = table_.find(node)) ++r->connections;
  ++per_listener_[s.listener][node];
}

node_id session_registry::detach(session_record& s) {
  const node_id left = s.node;
  if (left != 0) uncount(s);
  s.node = 0;
  s.phase = session_phase::placing;
  return left;
}

node_id session_registry::close(session_id id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return 0;
  const session_record& s = it->second;
  const node_id node = s.node;
  if (node != 0) uncount(s);
  if (s.held) --held_;
  sessions_.erase(it);
  return node;
}

void session_registry::set_held(session_record& s, bool held) {
  if (s.held == held) return;
  s.held = held;
  held ? ++held_ : --held_;
}

session_record* session_registry::find(session_id id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

const session_record* session_registry::find(session_id id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

const std::map<node_id, std::uint32_t>& session_registry::on_listener(std::size_t listener) const {
  static const std::map<node_id, std::uint32_t> none;
  return listener < per_listener_.size() ? per_listener_[listener] : none;
}

void session_registry::uncount(const session_record& s) {
  // A node a reload removed counts its sessions nowhere any more; they end all the same.
  if (node_record* r = table_.find(s.node)) --r->connections;
  auto& counts = per_listener_[s.listener];
  if (auto c = counts.find(s.node); c != counts.end() && --c->second == 0) counts.erase(c);
}

}  // namespace galeratop
