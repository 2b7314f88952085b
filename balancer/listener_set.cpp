#include "balancer/listener_set.hpp"

#include <algorithm>

namespace galeratop {
using asio::ip::tcp;

listener_set::listener_set(asio::io_context& io, relay& r, client_handler on_client,
                           listener::failure_handler on_failure)
    : io_(io), relay_(r), on_client_(std::move(on_client)), on_failure_(std::move(on_failure)) {}

void listener_set::listen(std::string name, listener_role role, std::string address, const tcp::endpoint& at) {
  add(std::move(name), role, std::move(address), [&](listener& l, listener::accepts who) { l.listen(at, who); });
}

void listener_set::adopt(std::string name, listener_role role, std::string address, int fd, const tcp::endpoint& at) {
  add(std::move(name), role, std::move(address), [&](listener& l, listener::accepts who) { l.adopt(fd, at, who); });
}

void listener_set::add(std::string name, listener_role role, std::string address,
                       const std::function<void(listener&, listener::accepts)>& open) {
  const std::size_t index = slots_.size();
  auto s = std::make_unique<slot>(
      io_, [this, index](tcp::socket client) { on_client_(index, std::move(client)); }, on_failure_);
  s->figures.name = std::move(name);
  s->figures.role = role;
  s->figures.address = std::move(address);
  const bool front_door = relay_.serves_front_door();
  open(s->socket, front_door ? listener::accepts::elsewhere : listener::accepts::here);  // throws when it cannot
  if (front_door) relay_.accept_on(index, s->socket.native_handle());
  slots_.push_back(std::move(s));
}

void listener_set::stop_accepting() {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    // The relay's accept is cancelled before the descriptor closes; the port is free once it is.
    if (relay_.serves_front_door()) relay_.stop_accepting_on(i);
    slots_[i]->socket.stop();
  }
}

bool listener_set::any_writer() const {
  return std::ranges::any_of(slots_, [](const auto& s) { return s->figures.role == listener_role::writer; });
}

std::vector<listener_figures> listener_set::figures(const session_registry& sessions) const {
  std::vector<listener_figures> all;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    all.push_back(slots_[i]->figures);
    all.back().connections = sessions.on_listener(i);
  }
  return all;
}

}  // namespace galeratop
