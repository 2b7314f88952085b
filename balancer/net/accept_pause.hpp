#pragma once

#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>

namespace galeratop {

/// How long an accept loop waits after a failed accept.
inline constexpr std::chrono::milliseconds accept_pause{100};

/// What every accept loop (clients, control, metrics) does when accept() fails, mostly for want
/// of a descriptor (EMFILE): the listener stays readable, so retrying at once would spin. It
/// waits instead; the clients wait in the kernel's listen queue meanwhile.
inline asio::awaitable<void> pause_after_failed_accept() {
  asio::steady_timer pause(co_await asio::this_coro::executor, accept_pause);
  co_await pause.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
}

}  // namespace galeratop
