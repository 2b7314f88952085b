#include "agent/config/command_line.hpp"

#include <fmt/format.h>
#include <tuple>


namespace galeratop {

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

  if (o.listen) {
    if (auto e = parse_endpoint(*o.listen))
      c.listen = *e;
    else
      refuse("--listen", fmt::format("\"{}\" is not HOST:PORT", *o.listen));
  }
  if (!o.nodes.empty()) {
    c.nodes.clear();
    for (const auto& text : o.nodes) {
      if (auto n = parse_named_endpoint(text))
        c.nodes.push_back({n->name, n->address, 1, 0});
      else
        refuse("--node", fmt::format("\"{}\" is not [NAME=]HOST:PORT", text));
    }
  }
  if (o.monitor_user) c.monitor.user = *o.monitor_user;
  if (o.monitor_password_file) c.monitor.password_file = *o.monitor_password_file;
  if (o.control) c.control = *o.control;
  if (o.control_tcp) c.control_tcp = *o.control_tcp;
  if (o.control_token_file) c.control_token_file = *o.control_token_file;
  if (o.metrics) c.metrics = *o.metrics;
  if (o.state_dir) c.state_dir = *o.state_dir;
  if (o.user) c.user = *o.user;
  if (o.intents_group) {
    if (valid_intent_group(*o.intents_group))
      c.intents.group = *o.intents_group;
    else
      refuse("--intents-group", std::string(intent_group_rule));
  }
  if (o.local_intents) c.intents.shared = false;
  if (o.max_connections) c.balancer.max_connections = *o.max_connections;
  duration(o.interval, "--interval", c.monitor.interval, std::chrono::milliseconds(50));
  duration(o.connect_timeout, "--connect-timeout", c.balancer.connect_timeout, std::chrono::milliseconds(10));
  duration(o.shutdown_grace, "--shutdown-grace", c.shutdown_grace, std::chrono::milliseconds(0));
  duration(o.maint_grace, "--maint-grace", c.balancer.maint_grace, std::chrono::milliseconds(0));
  duration(o.close_idle, "--close-idle", c.balancer.close_idle, std::chrono::milliseconds(0));
  duration(o.close_patience, "--close-patience", c.balancer.close_patience, std::chrono::milliseconds(0));
  duration(o.hung_time, "--hung-time", c.monitor.hung_time, std::chrono::milliseconds(1000));
  if (o.policy) {
    if (auto p = from_name(balance_policy_names, *o.policy))
      c.balancer.policy = *p;
    else
      refuse("--policy", expected_one_of(balance_policy_names));
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
