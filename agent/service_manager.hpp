#pragma once

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

namespace galeratop {

/// What galeratopd tells systemd as a Type=notify service (sd_notify(3)). Each call does
/// nothing when systemd did not start it (no NOTIFY_SOCKET), so galeratopd behaves the same
/// under any other supervisor. The only file that includes <systemd/sd-daemon.h>.
namespace service_manager {

/// READY=1: listening and serving (start-up done, or a reload finished).
void ready(std::string_view status);
/// RELOADING=1 with the monotonic time: a SIGHUP reload has begun.
void reloading();
/// STOPPING=1: no new clients; open sessions finish within the grace.
void stopping(std::string_view status);
/// How often to send watchdog(): half the WatchdogSec= systemd asked for; nullopt for none.
std::optional<std::chrono::microseconds> watchdog_interval();
/// WATCHDOG=1: the io thread, which owns the data path, is alive.
void watchdog();

/// A descriptor systemd passed (socket activation) and what it is.
struct passed_socket {
  int fd = -1;
  std::optional<asio::ip::tcp::endpoint> listening_at;  ///< a listening TCP socket's address; nullopt: something else
};
/// The sockets systemd passed (LISTEN_FDS and LISTEN_PID, sd_listen_fds(3)), close-on-exec from
/// now on; none when it passed none or they are meant for another process. Clears LISTEN_* so
/// that nothing started later takes them for its own.
std::vector<passed_socket> passed_sockets();

}  // namespace service_manager
}  // namespace galeratop
