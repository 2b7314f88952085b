#include "agent/config/reload_plan.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <tuple>

namespace galeratop {

reload_plan plan_reload(std::span<const node_record> running, std::span<const node_config> next) {
  reload_plan plan;
  std::vector<bool> still_configured(running.size(), false);
  for (std::size_t i = 0; i < next.size(); ++i) {
    const auto it = std::ranges::find(running, next[i].address.to_string(), &node_record::address);
    if (it == running.end()) {
      plan.nodes.push_back({std::nullopt, false});
      continue;
    }
    still_configured[static_cast<std::size_t>(it - running.begin())] = true;
    plan.nodes.push_back({it->id, it->configured_weight != next[i].weight});
  }
  for (std::size_t r = 0; r < running.size(); ++r)
    if (!still_configured[r]) plan.removed.push_back(running[r].id);
  return plan;
}

namespace {
/// "default (balance) on 127.0.0.1:3306, rw (writer) on 127.0.0.1:3307".
std::string describe(const std::vector<listener_config>& listeners) {
  std::string out;
  for (const listener_config& l : listeners)
    out += fmt::format("{}{} ({}) on {}", out.empty() ? "" : ", ", l.name, to_string(l.role), l.address.to_string());
  return out;
}
}  // namespace

std::vector<std::string> keep_start_only_keys(config& next, const config& running) {
  std::vector<std::string> kept;
  if (next.listeners.empty() && running.listeners.empty()) {
    if (next.listen != running.listen)
      kept.push_back(fmt::format("agent.listen changed to {}: it takes effect at restart; still listening on {}",
                                 next.listen.to_string(), running.listen.to_string()));
  } else if (next.effective_listeners() != running.effective_listeners()) {
    kept.push_back(fmt::format("the listeners changed to {}: they take effect at restart; still listening as {}",
                               describe(next.effective_listeners()), describe(running.effective_listeners())));
  }
  if (next.metrics != running.metrics)
    kept.push_back(fmt::format("agent.metrics changed to \"{}\": it takes effect at restart; still serving \"{}\"",
                               next.metrics, running.metrics));
  if (next.state_dir != running.state_dir)
    kept.push_back(fmt::format("agent.state_dir changed to {}: it takes effect at restart; still using {}",
                               next.state_dir, running.state_dir));
  // The TLS certificate and key of TCP control are not among them: a reload reads them again.
  if (std::tie(next.control, next.control_group, next.control_tcp, next.control_token_file, next.control_tls) !=
      std::tie(running.control, running.control_group, running.control_tcp, running.control_token_file,
               running.control_tls))
    kept.push_back("the agent.control* keys changed: they take effect at restart (control_tls_cert and "
                   "control_tls_key excepted)");
  if (next.user != running.user)
    kept.push_back(fmt::format("agent.user changed to \"{}\": it takes effect at restart; still running as \"{}\"",
                               next.user, running.user));
  if (next.intents != running.intents)
    kept.push_back(fmt::format("the [intents] keys changed: they take effect at restart; still {}",
                               running.intents.shared ? fmt::format("sharing as group \"{}\"", running.intents.group)
                                                      : std::string("keeping intents locally")));
  if (next.balancer.io != running.balancer.io)
    kept.push_back(fmt::format("balancer.io_backend changed to \"{}\": it takes effect at restart; still \"{}\"",
                               to_string(next.balancer.io), to_string(running.balancer.io)));
  next.balancer.io = running.balancer.io;
  next.listen = running.listen;
  next.listeners = running.listeners;
  next.metrics = running.metrics;
  next.state_dir = running.state_dir;
  next.control = running.control;
  next.control_group = running.control_group;
  next.control_tcp = running.control_tcp;
  next.control_token_file = running.control_token_file;
  next.control_tls = running.control_tls;
  next.user = running.user;
  next.intents = running.intents;
  return kept;
}

}  // namespace galeratop
