// galeratopd: the Galera-aware balancer and monitor. Exit codes: 0 stopped
// cleanly or config valid, 1 refused configuration or start-up failure, 2 usage.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "agent/agent.hpp"
#include "agent/config/command_line.hpp"
#include "agent/config/secret_file.hpp"
#include "agent/config/tls_files.hpp"
#include "agent/version.hpp"
#include "balancer/core/log.hpp"
#include "exporters/metrics_server.hpp"

namespace {
constexpr const char* default_config = "/etc/galeratop/galeratopd.toml";

struct options {
  std::string config_file;
  std::string check_config;
  std::string log_level = "info";
  galeratop::config_overrides overrides;
};

void add_options(CLI::App& app, options& o) {
  auto& ov = o.overrides;
  app.add_option("-c,--config", o.config_file, "Configuration file (TOML)")
      ->option_text(fmt::format("FILE (default {} when no --node is given)", default_config));
  app.add_option("--check-config", o.check_config, "Validate FILE (with the options below) and exit")
      ->option_text("FILE");
  app.add_option("--listen", ov.listen, "Client-facing address [agent] listen: one balance listener; replaces the "
                 "file's [[listener]]s")->option_text("HOST:PORT");
  app.add_option("--listener", ov.listeners, "A [[listener]], repeatable; replaces the file's listeners. ROLE is "
                 "balance (every eligible node) or writer (the one writer the agents agree on); NAME defaults to "
                 "ROLE")->option_text("[NAME=]ROLE@HOST:PORT");
  app.add_option("--node", ov.nodes, "A node to balance to, repeatable; replaces the file's [[node]]s")
      ->option_text("[NAME=]HOST:PORT");
  app.add_option("--monitor-user", ov.monitor_user, "[monitor] user")->option_text("USER");
  app.add_option("--monitor-password-file", ov.monitor_password_file,
                 "[monitor] password_file: the monitor password is never taken from the command line")
      ->option_text("FILE");
  app.add_option("--interval", ov.interval, "[monitor] interval between checks")->option_text("DURATION");
  app.add_option("--rise", ov.rise, "[monitor] rise: good checks in a row before readmission")->option_text("N");
  app.add_option("--fall", ov.fall, "[monitor] fall: checks in a row without an answer before a suspect node is "
                 "taken for down")->option_text("N");
  app.add_option("--hung-time", ov.hung_time, "[monitor] hung_time: how long a node may be suspect before it is "
                 "taken for down")->option_text("DURATION");
  app.add_option("--policy", ov.policy, "[balancer] policy")->option_text("leastconn|roundrobin");
  app.add_option("--io-backend", ov.io_backend, "[balancer] io_backend: what relays established sessions; auto = "
                 "io_uring where the kernel allows it, else epoll")->option_text("auto|io_uring|epoll");
  app.add_option("--donor", ov.donor, "[balancer] donor")->option_text("avoid|serve");
  app.add_option("--connect-timeout", ov.connect_timeout, "[balancer] connect_timeout (TCP connect + greeting)")
      ->option_text("DURATION");
  app.add_option("--shutdown-grace", ov.shutdown_grace, "[agent] shutdown_grace")->option_text("DURATION");
  app.add_option("--control", ov.control, "[agent] control socket, mode 0600; \"\" disables it")
      ->option_text("PATH");
  app.add_option("--control-tcp", ov.control_tcp, "[agent] control_tcp: TCP control endpoint, needs a token")
      ->option_text("HOST:PORT");
  app.add_option("--control-token-file", ov.control_token_file, "[agent] control_token_file: the TCP token")
      ->option_text("FILE");
  app.add_option("--control-tls-cert", ov.control_tls_cert, "[agent] control_tls_cert: the agent's certificate "
                 "for TCP control (PEM, with its chain)")->option_text("FILE");
  app.add_option("--control-tls-key", ov.control_tls_key, "[agent] control_tls_key: its private key (PEM)")
      ->option_text("FILE");
  app.add_flag("--control-plain-tcp", ov.control_plain_tcp, "[agent] control_tls = false: TCP control without "
               "TLS, the token in clear");
  app.add_option("--maint-grace", ov.maint_grace, "[balancer] maint_grace: then a maint node's sessions close, cut or not")
      ->option_text("DURATION");
  app.add_option("--close-idle", ov.close_idle,
                 "[balancer] close_idle a session must be idle at a safe point before a drain closes it")
      ->option_text("DURATION");
  app.add_option("--close-patience", ov.close_patience,
                 "[balancer] close_patience: after it, a drain takes any safe point")
      ->option_text("DURATION");
  app.add_option("--hold", ov.hold, "[balancer] hold: how long a client no node can take now waits before "
                 "ERR 1047; 0 = refused at once")->option_text("DURATION");
  app.add_option("--hold-limit", ov.hold_limit, "[balancer] hold_limit: clients held at once; one more is refused at "
                 "once")->option_text("N");
  app.add_option("--metrics", ov.metrics, "[agent] metrics address, \"\" disables")->option_text("HOST:PORT");
  app.add_option("--metrics-tls-cert", ov.metrics_tls_cert, "[agent] metrics_tls_cert: serve /metrics over HTTPS "
                 "with this certificate (PEM)")->option_text("FILE");
  app.add_option("--metrics-tls-key", ov.metrics_tls_key, "[agent] metrics_tls_key: its private key (PEM)")
      ->option_text("FILE");
  app.add_option("--metrics-basic-auth-users", ov.metrics_basic_auth_users, "[agent] metrics_basic_auth_users: "
                 "/metrics needs HTTP basic auth by a USER:BCRYPT-HASH line of FILE")->option_text("FILE");
  app.add_option("--state-dir", ov.state_dir, "[agent] state_dir: what must survive a restart")
      ->option_text("DIR");
  app.add_option("--max-connections", ov.max_connections, "[balancer] max_connections held at once; 0 = what "
                 "the descriptor limit allows")->option_text("N");
  app.add_option("--intents-group", ov.intents_group, "[intents] group: agents with the same group share drain, "
                 "maint and weight through the cluster")->option_text("NAME");
  app.add_flag("--local-intents", ov.local_intents, "[intents] shared = false: keep intents in the state file only");
  app.add_flag("--proxy-protocol", ov.proxy_protocol, "[balancer] proxy_protocol = true: sessions start with a PROXY "
               "v2 header naming the client (nodes need it in proxy_protocol_networks)");
  app.add_flag("--writer-failback", ov.writer_failback, "[writer] failback = true: a recovered node with a higher "
               "writer_priority takes the writer role back");
  app.add_option("--writer-barrier", ov.writer_barrier, "[writer] barrier: how long a writer switch waits for the "
                 "old writer's sessions to reach a safe point before it cuts them")->option_text("DURATION");
  app.add_option("--user", ov.user, "[agent] user: run as USER once the sockets are bound")->option_text("USER");
  app.add_option("--log-level", o.log_level, "Lowest level logged")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}));
}

/// The file (if any) plus the command line; called at start and at every SIGHUP.
galeratop::config_result load(const options& o, const std::string& file) {
  galeratop::config base;
  if (!file.empty()) {
    auto r = galeratop::load_config_file(file);
    if (!r.value) return r;
    base = std::move(*r.value);
  }
  return galeratop::apply_overrides(std::move(base), o.overrides);
}

int refuse(const std::vector<galeratop::config_error>& errors) {
  for (const auto& e : errors) std::fprintf(stderr, "galeratopd: %s\n", e.to_string().c_str());
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"galeratopd - Galera-aware TCP load balancer, wsrep monitor and exporter.\n"
               "Sends each new MySQL client to a Synced node of the Primary component; see galeratopd(8).",
               "galeratopd"};
  app.set_version_flag("-V,--version", fmt::format("galeratopd {}", galeratop::version));
  app.get_formatter()->column_width(40);
  options o;
  add_options(app, o);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const auto level = o.log_level == "debug" ? galeratop::log_level::debug
                     : o.log_level == "warning" ? galeratop::log_level::warning
                     : o.log_level == "error"   ? galeratop::log_level::error
                                                : galeratop::log_level::info;
  galeratop::set_log_level(level);

  if (!o.check_config.empty()) {
    auto r = load(o, o.check_config);
    if (!r.value) return refuse(r.errors);
    std::string listeners;
    for (const auto& l : r.value->effective_listeners())
      listeners += fmt::format("listener {} ({}) on {}, ", l.name, galeratop::to_string(l.role), l.address.to_string());
    std::printf("galeratopd: %s is valid: %s%zu node(s)\n", o.check_config.c_str(), listeners.c_str(),
                r.value->nodes.size());
    // The files it names (secrets, certificates, keys, users) are not part of the file's validity
    // (they may be written after it), but galeratopd will refuse to start without them: say so now.
    std::vector<std::pair<std::string, std::string_view>> secrets{
        {r.value->monitor.password_file, "monitor.password_file"}};
    if (!r.value->control_tcp.empty()) secrets.emplace_back(r.value->control_token_file, "agent.control_token_file");
    std::vector<std::string> problems;
    for (const auto& [path, key] : secrets) {
      std::string error;
      if (!galeratop::read_secret_file(path, key, error)) problems.push_back(std::move(error));
    }
    std::string error;
    if (!r.value->control_tcp.empty() && r.value->control_tls &&
        !galeratop::make_server_context({r.value->control_tls_cert, r.value->control_tls_key}, "agent.control_tls",
                                        error))
      problems.push_back(std::move(error));
    if (!r.value->metrics.empty() &&
        !galeratop::metrics_security::load({r.value->metrics_tls_cert, r.value->metrics_tls_key},
                                           r.value->metrics_basic_auth_users, error))
      problems.push_back(std::move(error));
    for (const auto& problem : problems)
      std::fprintf(stderr, "galeratopd: warning: %s; galeratopd will not start until that is fixed\n",
                   problem.c_str());
    return 0;
  }

  std::string file = o.config_file;
  if (file.empty() && o.overrides.nodes.empty() && std::filesystem::exists(default_config)) file = default_config;
  auto initial = load(o, file);
  if (!initial.value) return refuse(initial.errors);
  try {
    galeratop::agent agent(std::move(*initial.value), [o, file] { return load(o, file); });
    return agent.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "galeratopd: %s\n", e.what());
    return 1;
  }
}
