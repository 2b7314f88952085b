#include "agent/reloader.hpp"

#include <asio/post.hpp>

#include "agent/config/reload_plan.hpp"
#include "agent/config/secret_file.hpp"
#include "balancer/core/log.hpp"
#include "balancer/net/connection_limit.hpp"
#include "balancer/net/resolve.hpp"

namespace galeratop {

namespace {
monitor_target target_for(const node_config& n, const config& c, const std::string& password) {
  return {{n.address, c.monitor.user, password, c.monitor.timeout}, c.monitor.interval};
}
}  // namespace

reloader::reloader(asio::io_context& io, balancer& b, config initial, config_loader loader, change_handler changed)
    : io_(io), balancer_(b), config_(std::move(initial)), loader_(std::move(loader)), changed_(std::move(changed)) {}

reloader::~reloader() {
  // Monitors post into io_; they must be gone before it is.
  monitors_.clear();
  retired_.clear();
}

std::unique_ptr<wsrep_monitor> reloader::start_monitor(node_id id, const monitor_target& t) {
  // The one cross-thread hand-off of observations: the monitor thread posts,
  // the io thread applies. Nothing else of the balancer is touched off-thread.
  return std::make_unique<wsrep_monitor>(t, [this, id](observation obs) {
    asio::post(io_, [this, id, obs = std::move(obs)]() mutable {
      // A change of state or eligibility is published at once, not at the next tick: status and
      // metrics must never say a node is out after the log said it is in (or the reverse).
      if (balancer_.observe(id, std::move(obs))) changed_();
    });
  });
}

void reloader::retire(std::unique_ptr<wsrep_monitor> monitor) {
  if (!monitor) return;
  monitor->request_stop();  // joining here would hold the io thread for up to one check's timeout
  retired_.push_back(std::move(monitor));
}

std::optional<reloader::next_config> reloader::read(std::string& error) {
  // Monitors retired at an earlier reload ended long ago; joining them is instant.
  retired_.clear();
  config_result r = loader_();
  if (!r.value) {
    error.clear();
    for (const auto& e : r.errors) {
      log_error("reload refused, keeping the running configuration: {}", e.to_string());
      error += (error.empty() ? "" : "; ") + e.to_string();
    }
    return std::nullopt;
  }
  auto password = read_secret_file(r.value->monitor.password_file, "monitor.password_file", error);
  if (!password) {
    log_error("reload refused, keeping the running configuration: {}", error);
    return std::nullopt;
  }
  for (const std::string& kept : keep_start_only_keys(*r.value, config_)) log_warning("{}", kept);
  return next_config{std::move(*r.value), std::move(*password)};
}

void reloader::apply(const config& c, const std::string& password, const intent_store& intents) {
  // Every node resolves, or nothing changes: a reload is refused whole.
  std::vector<backend> backends;
  for (const node_config& n : c.nodes) {
    std::string error;
    auto ep = resolve(io_, n.address.host, n.address.port, error);
    if (!ep) throw std::runtime_error(fmt::format("node {}: cannot resolve: {}", n.address.to_string(), error));
    backends.push_back(
        {n.name, n.address.to_string(), {ep->address().to_string(), ep->port()}, n.weight, n.writer_priority,
         n.proxy_protocol.value_or(c.balancer.proxy_protocol)});
  }
  const reload_plan plan = plan_reload(balancer_.table().records(), c.nodes);
  for (std::size_t i = 0; i < c.nodes.size(); ++i) {
    const node_config& n = c.nodes[i];
    const backend& b = backends[i];
    const monitor_target t = target_for(n, c, password);
    if (const auto id = plan.nodes[i].running) {
      if (plan.nodes[i].weight_changed)
        log_info("node {}: weight {} -> {}", b.address, balancer_.table().find(*id)->configured_weight, n.weight);
      balancer_.update_node(*id, b, c.monitor.health());
      // A monitor keeps its connection unless how it checks has changed.
      node_monitor& m = monitors_[*id];
      if (!(m.target == t)) {
        retire(std::move(m.thread));
        m = {t, start_monitor(*id, t)};
      }
    } else {
      // An intent outlives reloads and restarts: a node that comes back comes back drained.
      const node_id added = balancer_.add_node(b, intents.get(b.address), c.monitor.health());
      log_info("node {}{}: added, weight {}", n.name.empty() ? "" : n.name + " ", b.address, n.weight);
      monitors_[added] = {t, start_monitor(added, t)};
    }
  }
  for (const node_id gone : plan.removed) {
    log_info("node {}: removed; its open sessions continue", balancer_.table().find(gone)->address);
    balancer_.remove_node(gone);
    retire(std::move(monitors_[gone].thread));
    monitors_.erase(gone);
  }
  balancer_settings data_path = c.balancer;
  data_path.writer_barrier = c.writer.barrier;
  data_path.max_connections = effective_max_connections(c.balancer.max_connections, descriptor_limit_);
  if (exceeds_descriptor_limit(c.balancer.max_connections, descriptor_limit_))
    log_warning("balancer.max_connections {} needs {} descriptors, the limit is {}: when they run out, new clients "
                "wait in the listen queue or get ERR 1040 (raise LimitNOFILE= or ulimit -n)",
                c.balancer.max_connections, reserved_descriptors + 2 * c.balancer.max_connections, descriptor_limit_);
  if (applied_ && data_path.max_connections != balancer_.settings().max_connections)
    log_info("max_connections {} -> {}", balancer_.settings().max_connections, data_path.max_connections);
  balancer_.set_settings(data_path);
  applied_ = true;
  config_ = c;
}

std::vector<mysql_login> reloader::logins(std::span<const node_id> ids) const {
  std::vector<mysql_login> out;
  for (const node_id id : ids)
    if (auto m = monitors_.find(id); m != monitors_.end()) out.push_back(m->second.target.login);
  return out;
}

}  // namespace galeratop
