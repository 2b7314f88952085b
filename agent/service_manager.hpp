#pragma once

#include <chrono>
#include <optional>
#include <string_view>

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

}  // namespace service_manager
}  // namespace galeratop
