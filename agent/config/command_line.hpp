#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.hpp"

namespace galeratop {

/// The options of `galeratopd` that override configuration keys; each is
/// kept as text so that errors can quote it.
struct config_overrides {
  std::optional<std::string> listen;  ///< replaces the file's [[listener]]s with one balance listener
  std::vector<std::string> listeners;  ///< [NAME=]ROLE@HOST:PORT; when given, they replace the file's listeners
  std::vector<std::string> nodes;  ///< [NAME=]HOST:PORT; when given, they replace the file's nodes
  std::optional<std::string> monitor_user;
  std::optional<std::string> monitor_password_file;
  std::optional<std::string> interval;
  std::optional<std::string> control;
  std::optional<std::string> control_tcp;
  std::optional<std::string> control_token_file;
  std::optional<std::string> control_tls_cert;
  std::optional<std::string> control_tls_key;
  bool control_plain_tcp = false;  ///< --control-plain-tcp: [agent] control_tls = false
  std::optional<std::string> metrics_tls_cert;
  std::optional<std::string> metrics_tls_key;
  std::optional<std::string> metrics_basic_auth_users;
  std::optional<std::string> maint_grace;
  std::optional<std::string> close_idle;
  std::optional<std::string> close_patience;
  std::optional<std::string> hold;
  std::optional<std::size_t> hold_limit;
  std::optional<std::string> metrics;
  std::optional<std::string> state_dir;
  std::optional<std::string> policy;
  std::optional<std::string> donor;
  std::optional<std::string> io_backend;
  std::optional<std::string> connect_timeout;
  std::optional<int> rise;
  std::optional<int> fall;
  std::optional<std::string> hung_time;
  std::optional<std::string> shutdown_grace;
  std::optional<std::size_t> max_connections;
  std::optional<std::string> user;
  std::optional<std::string> intents_group;
  bool local_intents = false;  ///< --local-intents: [intents] shared = false
  bool writer_failback = false;  ///< --writer-failback: [writer] failback = true
  bool proxy_protocol = false;   ///< --proxy-protocol: [balancer] proxy_protocol = true
  std::optional<std::string> writer_barrier;  ///< --writer-barrier: [writer] barrier, at least 0
};

/// Applies the overrides on top of `base` (pure); the errors name the option.
config_result apply_overrides(config base, const config_overrides& o);

}  // namespace galeratop
