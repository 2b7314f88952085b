#include "balancer/balancer.hpp"

#include <algorithm>

#include "balancer/relay_backend.hpp"

namespace galeratop {

namespace {
std::unique_ptr<relay> start_relay(const balancer_settings& s, asio::io_context& io, relay::end_handler on_end,
                                   std::string& why) {
  chosen_relay chosen = make_relay(s.io, io, std::move(on_end));
  why = std::move(chosen.why);
  return std::move(chosen.running);
}
}  // namespace

balancer::balancer(asio::io_context& io, balancer_settings settings, drained_handler on_drained)
    : settings_(settings),
      on_drained_(std::move(on_drained)),
      relay_(start_relay(settings_, io, [this](const std::vector<session_id>& ids) { relay_ended(ids); }, relay_why_)),
      listeners_(
          io, *relay_, [this](std::size_t l, asio::ip::tcp::socket c) { placement_.on_client(l, std::move(c)); },
          [this](const std::error_code& ec) { placement_.accept_failed(ec); }),
      admin_(io, settings_, table_, sessions_, *relay_, [this] { placement_.wake_held(); },
             [this](node_id id) {
               if (on_drained_) on_drained_(id);
             }),
      writer_(io, settings_, table_, sessions_, *relay_, [this] { placement_.wake_held(); }),
      placement_(io, settings_, table_, sessions_, listeners_, *relay_, admin_, writer_) {
  relay_->set_idle_timeout(settings_.idle_timeout);
  relay_->set_close_timing(settings_.close_idle, settings_.close_patience);
  if (relay_->serves_front_door())
    relay_->set_front_door({.dialed = [this](relay::dial_outcome o) { placement_.on_dialed(std::move(o)); },
                            .accepted = [this](std::size_t l, int fd) { placement_.on_accepted(l, fd); },
                            .accept_failed = [this](std::size_t, const std::error_code& ec) {
                              placement_.accept_failed(ec);
                            }});
}

balancer::~balancer() {
  // The relay thread stops first: it reports into the rooms, which go after it.
  relay_.reset();
}

void balancer::set_settings(const balancer_settings& s) {
  admin_.rejudge([&] {
    settings_ = s;
    relay_->set_idle_timeout(settings_.idle_timeout);
    relay_->set_close_timing(settings_.close_idle, settings_.close_patience);
  });
}

void balancer::relay_ended(const std::vector<session_id>& ids) {
  std::vector<node_id> left;
  for (const session_id id : ids)
    if (const node_id node = sessions_.close(id); node != 0 && std::ranges::find(left, node) == left.end())
      left.push_back(node);
  writer_.session_left();
  for (const node_id node : left) admin_.session_left(node);
}

}  // namespace galeratop
