#include "agent/config/command_line.hpp"

#include <fmt/format.h>
#include <tuple>


namespace galeratop {
namespace {

/// A `--listener` argument, [NAME=]ROLE@HOST:PORT (NAME defaults to the role's); nullopt, with the
/// reason in `why`, when malformed.
std::optional<listener_config> parse_listener(std::string_view text, std::string& why) {
  const auto at = text.find('@');
  auto address = at == std::string_view::npos ? std::nullopt : parse_endpoint(text.substr(at + 1));
  if (!address) {
    why = fmt::format("\"{}\" is not [NAME=]ROLE@HOST:PORT (IPv6 as writer@[::1]:3306)", text);
    return std::nullopt;
  }
  std::string_view role_text = text.substr(0, at);
  std::optional<std::string_view> name;
  if (const auto eq = role_text.find('='); eq != std::string_view::npos) {
    name = role_text.substr(0, eq);
    role_text.remove_prefix(eq + 1);
  }
  const auto role = from_name(listener_role_names, role_text);
  if (!role) {
    why = fmt::format("\"{}\": the role: {}", text, expected_one_of(listener_role_names));
    return std::nullopt;
  }
  if (name && !valid_intent_group(*name)) {  // the same rule as a group's name
    why = fmt::format("\"{}\": the name: {}", text, intent_group_rule);
    return std::nullopt;
  }
  return listener_config{std::string(name ? *name : to_string(*role)), std::move(*address), *role, 0};
}

}  // namespace

config_result apply_overrides(config c, const config_overrides& o) {
  std::vector<config_error> errors;
  auto refuse = [&](std::string option, std::string message) {
    errors.push_back({"command line", 0, std::move(option), std::move(message)});
  };
  auto duration = [&](const std::optional<std::string>& text, std::string option, auto& field, auto min) {
    if (!text) return;
    auto d = parse_duration(*text);
    if (!d || *d < min)
      refuse(std::move(option), fmt::format("\"{}\" is not a duration of at least {}", *text, format_duration(min)));
    else
      field = std::chrono::duration_cast<std::remove_reference_t<decltype(field)>>(*d);
  };

  // Either option replaces the file's client-facing addresses, whichever way the file gave them.
  if (o.listen && !o.listeners.empty()) {
    refuse("--listen", "give the client-facing addresses either as --listen or as --listener options, not both");
  } else if (o.listen) {
    if (auto e = parse_endpoint(*o.listen)) {
      c.listen = *e;
      c.listeners.clear();
    } else {
      refuse("--listen", fmt::format("\"{}\" is not HOST:PORT", *o.listen));
    }
  } else if (!o.listeners.empty()) {
    c.listeners.clear();
    for (const auto& text : o.listeners) {
      std::string why;
      if (auto l = parse_listener(text, why))
        c.listeners.push_back(std::move(*l));
      else
        refuse("--listener", std::move(why));
    }
  }
  if (!o.nodes.empty()) {
    c.nodes.clear();
    for (const auto& text : o.nodes) {
      if (auto n = parse_named_endpoint(text)) {
        node_config node;
        node.name = n->name;
        node.address = n->address;
        c.nodes.push_back(std::move(node));
      } else {
        refuse("--node", fmt::format("\"{}\" is not [NAME=]HOST:PORT", text));
      }
    }
  }
  if (o.monitor_user) c.monitor.user = *o.monitor_user;
  if (o.monitor_password_file) c.monitor.password_file = *o.monitor_password_file;
  if (o.control) c.control = *o.control;
  if (o.control_tcp) c.control_tcp = *o.control_tcp;
  if (o.control_token_file) c.control_token_file = *o.control_token_file;
  if (o.control_tls_cert) c.control_tls_cert = *o.control_tls_cert;
  if (o.control_tls_key) c.control_tls_key = *o.control_tls_key;
  if (o.control_plain_tcp) c.control_tls = false;
  if (o.metrics) c.metrics = *o.metrics;
  if (o.metrics_tls_cert) c.metrics_tls_cert = *o.metrics_tls_cert;
  if (o.metrics_tls_key) c.metrics_tls_key = *o.metrics_tls_key;
  if (o.metrics_basic_auth_users) c.metrics_basic_auth_users = *o.metrics_basic_auth_users;
  if (o.state_dir) c.state_dir = *o.state_dir;
  if (o.user) c.user = *o.user;
  if (o.intents_group) {
    if (valid_intent_group(*o.intents_group))
      c.intents.group = *o.intents_group;
    else
      refuse("--intents-group", std::string(intent_group_rule));
  }
  if (o.local_intents) c.intents.shared = false;
  if (o.writer_failback) c.writer.failback = true;
  if (o.proxy_protocol) c.balancer.proxy_protocol = true;
  if (o.max_connections) c.balancer.max_connections = *o.max_connections;
  duration(o.interval, "--interval", c.monitor.interval, std::chrono::milliseconds(50));
  duration(o.connect_timeout, "--connect-timeout", c.balancer.connect_timeout, std::chrono::milliseconds(10));
  duration(o.shutdown_grace, "--shutdown-grace", c.shutdown_grace, std::chrono::milliseconds(0));
  duration(o.maint_grace, "--maint-grace", c.balancer.maint_grace, std::chrono::milliseconds(0));
  duration(o.close_idle, "--close-idle", c.balancer.close_idle, std::chrono::milliseconds(0));
  duration(o.close_patience, "--close-patience", c.balancer.close_patience, std::chrono::milliseconds(0));
  duration(o.hold, "--hold", c.balancer.hold, std::chrono::milliseconds(0));
  if (o.hold_limit) {
    if (*o.hold_limit == 0)
      refuse("--hold-limit", "expected at least 1 (--hold 0 refuses every client no node can take at once)");
    else
      c.balancer.hold_limit = *o.hold_limit;
  }
  duration(o.hung_time, "--hung-time", c.monitor.hung_time, std::chrono::milliseconds(1000));
  duration(o.writer_barrier, "--writer-barrier", c.writer.barrier, std::chrono::milliseconds(0));
  if (o.policy) {
    if (auto p = from_name(balance_policy_names, *o.policy))
      c.balancer.policy = *p;
    else
      refuse("--policy", expected_one_of(balance_policy_names));
  }
  if (o.io_backend) {
    if (auto b = from_name(io_backend_names, *o.io_backend))
      c.balancer.io = *b;
    else
      refuse("--io-backend", expected_one_of(io_backend_names));
  }
  if (o.donor) {
    if (auto d = from_name(donor_policy_names, *o.donor))
      c.balancer.donors = *d;
    else
      refuse("--donor", expected_one_of(donor_policy_names));
  }
  for (auto [given, option, field] : {std::tuple{o.rise, "--rise", &c.monitor.rise}, {o.fall, "--fall", &c.monitor.fall}}) {
    if (!given) continue;
    if (*given < 1 || *given > 100)
      refuse(option, "must be between 1 and 100");
    else
      *field = *given;
  }
  for (auto& e : validate(c)) errors.push_back(std::move(e));
  if (!errors.empty()) return {std::nullopt, std::move(errors)};
  return {std::move(c), {}};
}

}  // namespace galeratop
