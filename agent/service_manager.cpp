#include "agent/service_manager.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstring>
#include <string>

namespace galeratop::service_manager {
namespace {
void notify(const std::string& state) {
  // 0: keep NOTIFY_SOCKET in the environment, every later notification needs it.
  (void)sd_notify(0, state.c_str());
}
}  // namespace

void ready(std::string_view status) { notify(fmt::format("READY=1\nSTATUS={}", status)); }

void reloading() {
  ::timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  // MONOTONIC_USEC lets systemd (253 and later) tell this reload from an earlier one.
  const long long usec = static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
  notify(fmt::format("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC={}", usec));
}

void stopping(std::string_view status) { notify(fmt::format("STOPPING=1\nSTATUS={}", status)); }

std::optional<std::chrono::microseconds> watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec / 2);
}

void watchdog() { notify("WATCHDOG=1"); }

std::vector<passed_socket> passed_sockets() {
  std::vector<passed_socket> passed;
  const int n = sd_listen_fds(1);
  // sd_listen_fds() has made each one close-on-exec already.
  for (int fd = SD_LISTEN_FDS_START; n > 0 && fd < SD_LISTEN_FDS_START + n; ++fd) {
    passed_socket p{fd, std::nullopt};
    ::sockaddr_storage addr{};
    ::socklen_t len = sizeof addr;
    // AF_UNSPEC: IPv4 or IPv6; 1: listening; 0: on any port.
    if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) > 0 &&
        ::getsockname(fd, reinterpret_cast<::sockaddr*>(&addr), &len) == 0) {
      asio::ip::tcp::endpoint at;
      std::memcpy(at.data(), &addr, len);
      at.resize(len);
      p.listening_at = at;
    }
    passed.push_back(p);
  }
  return passed;
}

}  // namespace galeratop::service_manager
