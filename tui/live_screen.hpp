#pragma once

#include <chrono>
#include <string>

#include "tui/control_client.hpp"

namespace galeratop {

/// What `galeratop` without a subcommand is started with.
struct live_options {
  std::string control;  ///< unix socket path or HOST:PORT
  std::string token;    ///< for TCP
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
