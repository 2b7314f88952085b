#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tui/control_client.hpp"

namespace galeratop {

/// What `galeratop` without a subcommand is started with.
struct live_options {
  std::vector<std::string> controls;  ///< unix socket paths or HOST:PORTs, one per agent; at least one
  std::string token;    ///< for TCP, the same for every agent
  control_tls_options tls;  ///< for TCP: TLS, and how the agent's certificate is checked
  std::chrono::milliseconds interval{1000};
  bool readonly = false;
  bool colour = true;
};

/// The live screen: subscribes to galeratopd's status, draws it, turns keys into control
/// requests, and reconnects on its own when the agent goes away. Returns the exit code;
/// the terminal is restored on every way out (q, SIGINT, SIGTERM, an exception).
int run_live_screen(const live_options& o);

}  // namespace galeratop
