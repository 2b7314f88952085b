#include "balancer/relay_backend.hpp"

#include <fmt/format.h>
#include <stdexcept>

#include "balancer/epoll_relay.hpp"
#include "balancer/uring_relay.hpp"

namespace galeratop {

chosen_relay make_relay(io_backend wanted, asio::io_context& io, relay::end_handler on_end) {
  if (wanted == io_backend::epoll)
    return {std::make_unique<epoll_relay>(io, std::move(on_end)), "[balancer] io_backend = \"epoll\""};
  try {
    return {std::make_unique<uring_relay>(io, on_end), ""};
  } catch (const std::runtime_error& refused) {
    if (wanted == io_backend::io_uring)
      throw std::runtime_error(fmt::format("[balancer] io_backend = \"io_uring\", but {}", refused.what()));
    return {std::make_unique<epoll_relay>(io, std::move(on_end)), fmt::format("io_uring refused: {}", refused.what())};
  }
}

}  // namespace galeratop
