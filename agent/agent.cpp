#include "agent/agent.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fmt/ranges.h>
#include <unistd.h>

#include "agent/cluster/snapshot_json.hpp"
#include "agent/config/reload_plan.hpp"
#include "agent/config/secret_file.hpp"
#include "agent/config/tls_files.hpp"
#include "agent/control/control_server.hpp"
#include "agent/control/node_reference.hpp"
#include "agent/descriptor_limit.hpp"
#include "agent/service_manager.hpp"
#include "agent/version.hpp"
#include "balancer/net/address_text.hpp"
#include "balancer/net/connection_limit.hpp"
#include "balancer/core/clock.hpp"
#include "balancer/core/log.hpp"
#include "exporters/metrics_server.hpp"

namespace galeratop {
namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::string_view memory_file_name = "bootstrap.json";
constexpr std::string_view intents_file_name = "intents.json";
using json = nlohmann::json;
constexpr auto memory_write_pace = std::chrono::seconds(1);  // seqnos move all the time; a second behind is enough

/// The TLS files of the TCP control endpoint.
tls_files control_tls_files(const config& c) { return {c.control_tls_cert, c.control_tls_key}; }

/// What /metrics asks of its clients, read from the files the configuration names.
std::optional<metrics_security> load_metrics_security(const config& c, std::string& error) {
  return metrics_security::load({c.metrics_tls_cert, c.metrics_tls_key}, c.metrics_basic_auth_users, error);
}

/// "https://127.0.0.1:9490/metrics (basic auth, 2 user(s))", for the log.
std::string metrics_text(const config& c, const metrics_security& security) {
  return fmt::format("{}://{}/metrics{}", security.tls ? "https" : "http", c.metrics,
                     security.users ? fmt::format(" (basic auth, {} user(s))", security.users->size()) : "");
}

/// Resolves HOST:PORT once, at start or reload, so the data path never waits for DNS.
std::optional<asio::ip::tcp::endpoint> resolve(asio::io_context& io, const endpoint& e, std::string& error) {
  asio::ip::tcp::resolver resolver(io);
  std::error_code ec;
  auto results = resolver.resolve(e.host, std::to_string(e.port), asio::ip::tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    error = ec ? ec.message() : "no address";
    return std::nullopt;
  }
  return results.begin()->endpoint();
}
}  // namespace

agent::agent(config initial, config_loader reload)
    : balancer_(io_, initial.balancer, [this](node_id) { on_drained(); }),
      config_(std::move(initial)),
      loader_(std::move(reload)),
      model_(config_.cluster),
      publish_timer_(io_),
      watchdog_timer_(io_) {}

agent::~agent() {
  // Monitors post into io_; they must be gone before it is. The intent sync, a member, stops
  // when the members go, and Connector/C (connector_, the first member) ends after it.
  monitors_.clear();
  retired_.clear();
}

monitor_target agent::target_for(const node_config& n, const config& c, const std::string& password) const {
  return {{n.address, c.monitor.user, password, c.monitor.timeout}, c.monitor.interval};
}

std::unique_ptr<wsrep_monitor> agent::start_monitor(node_id id, const monitor_target& t) {
  // The one cross-thread hand-off of observations: the monitor thread posts,
  // the io thread applies. Nothing else of the balancer is touched off-thread.
  return std::make_unique<wsrep_monitor>(t, [this, id](observation obs) {
    asio::post(io_, [this, id, obs = std::move(obs)]() mutable {
      // A change of state or eligibility is published at once, not at the next tick: status and
      // metrics must never say a node is out after the log said it is in (or the reverse).
      if (balancer_.observe(id, std::move(obs))) publish();
    });
  });
}

void agent::retire(std::unique_ptr<wsrep_monitor> monitor) {
  if (!monitor) return;
  monitor->request_stop();  // joining here would hold the io thread for up to one check's timeout
  retired_.push_back(std::move(monitor));
}

void agent::apply(const config& c, const std::string& password) {
  // Every node resolves, or nothing changes: a reload is refused whole.
  std::vector<backend> backends;
  for (const node_config& n : c.nodes) {
    std::string error;
    auto ep = resolve(io_, n.address, error);
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
      const node_id added = balancer_.add_node(b, intents_.get(b.address), c.monitor.health());
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
  model_.set_settings(c.cluster);
  config_ = c;
  password_ = password;
}

std::optional<std::string> agent::reload() {
  // Monitors retired at an earlier reload ended long ago; joining them is instant.
  retired_.clear();
  config_result r = loader_();
  if (!r.value) {
    std::string all;
    for (const auto& e : r.errors) {
      log_error("reload refused, keeping the running configuration: {}", e.to_string());
      all += (all.empty() ? "" : "; ") + e.to_string();
    }
    return all;
  }
  std::string error;
  auto password = read_secret_file(r.value->monitor.password_file, "monitor.password_file", error);
  if (!password) {
    log_error("reload refused, keeping the running configuration: {}", error);
    return error;
  }
  for (const std::string& kept : keep_start_only_keys(*r.value, config_)) log_warning("{}", kept);
  // Certificates are renewed in place (certbot, an internal CA): the files (and the metrics users)
  // are read again at every reload, and one that does not load refuses the reload, the running
  // ones staying in use.
  std::shared_ptr<asio::ssl::context> control_tls;
  if (control_ && !r.value->control_tcp.empty() && r.value->control_tls) {
    control_tls = make_server_context(control_tls_files(*r.value), "agent.control_tls", error);
    if (!control_tls) {
      log_error("reload refused, keeping the running configuration and certificate: {}", error);
      return error;
    }
  }
  std::optional<metrics_security> metrics_reloaded;
  if (metrics_) {
    metrics_reloaded = load_metrics_security(*r.value, error);
    if (!metrics_reloaded) {
      log_error("reload refused, keeping the running configuration, certificate and users: {}", error);
      return error;
    }
  }
  try {
    apply(*r.value, *password);
  } catch (const std::exception& e) {
    log_error("reload refused, keeping the running configuration: {}", e.what());
    return std::string(e.what());
  }
  if (metrics_reloaded) {
    log_info("metrics: new clients are served as {}", metrics_text(config_, *metrics_reloaded));
    metrics_->set_security(std::move(*metrics_reloaded));
  }
  if (control_tls) {
    control_->set_tls(std::move(control_tls));
    log_info("control: new TLS clients get the certificate in {}", config_.control_tls_cert);
  }
  log_info("configuration reloaded from {}: {} node(s)", r.value->source, balancer_.table().records().size());
  publish();
  return std::nullopt;
}

asio::awaitable<void> agent::handle_signals() {
  asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
  for (;;) {
    auto [ec, signo] = co_await signals.async_wait(use_tuple);
    if (ec) co_return;
    if (signo == SIGHUP) {
      log_info("SIGHUP: reloading the configuration");
      service_manager::reloading();
      const auto refused = reload_for("SIGHUP");  // a refusal is logged
      service_manager::ready(refused ? fmt::format("reload refused, the running configuration kept: {}", *refused)
                                     : serving_status());
    } else if (!stopping_) {
      stopping_ = true;
      log_info("{}: no new clients; {} session(s) may finish within {}", signo == SIGTERM ? "SIGTERM" : "SIGINT",
               balancer_.session_count(), format_duration(config_.shutdown_grace));
      service_manager::stopping(fmt::format("stopping: {} session(s) may finish within {}", balancer_.session_count(),
                                            format_duration(config_.shutdown_grace)));
      asio::co_spawn(io_, shut_down(), asio::detached);
    } else {
      log_info("second stop signal: closing {} session(s) now", balancer_.session_count());
      balancer_.close_all_sessions();
    }
  }
}

asio::awaitable<void> agent::shut_down() {
  balancer_.stop_accepting();
  // A pool's sessions never end by themselves: each is closed at its next safe point, where a
  // validating pool replaces it without an error (from the next galeratopd, with socket
  // activation), rather than cut at the end of the grace. The grace still bounds the rest.
  balancer_.close_all_when_safe("behind a galeratopd that is stopping");
  asio::steady_timer poll(io_);
  const auto deadline = mono_clock::now() + config_.shutdown_grace;
  while (balancer_.session_count() > 0 && mono_clock::now() < deadline) {
    poll.expires_after(std::chrono::milliseconds(50));
    co_await poll.async_wait(use_tuple);
  }
  if (balancer_.session_count() > 0) {
    log_info("grace over: closing {} session(s)", balancer_.session_count());
    balancer_.close_all_sessions();
    // Let the closed sessions unwind before the loop stops.
    while (balancer_.session_count() > 0) {
      poll.expires_after(std::chrono::milliseconds(10));
      co_await poll.async_wait(use_tuple);
    }
  }
  publish_timer_.cancel();
  watchdog_timer_.cancel();
  publish();  // the last seqnos seen go to the state file before it closes
  if (control_) control_->stop();
  log_info("stopped");
  io_.stop();
}

int agent::run() {
  std::signal(SIGPIPE, SIG_IGN);
  std::string error;
  std::optional<run_as> user;
  if (!config_.user.empty() && !(user = find_run_as(config_.user, error))) throw std::runtime_error(error);
  auto password = read_secret_file(config_.monitor.password_file, "monitor.password_file", error);
  if (!password) throw std::runtime_error(error);
  descriptor_limit_ = raise_descriptor_limit();
  open_listeners();
  open_state_and_exporter();
  const config initial = config_;
  apply(initial, *password);
  start_intent_sync();
  publish();  // the control endpoint answers from the first moment it accepts
  open_control();
  if (user) become(*user);
  log_info("galeratopd {} listening on {} for {} node(s), policy {}, donor {}, max_connections {}{}", version,
           listeners_text(), balancer_.table().records().size(), to_string(config_.balancer.policy),
           to_string(config_.balancer.donors), balancer_.settings().max_connections,
           config_.balancer.max_connections == 0 ? fmt::format(" (what {} descriptors allow)", descriptor_limit_) : "");
  if (const std::string& why = balancer_.io_backend_why(); why.empty())
    log_info("sessions are relayed with {}", balancer_.io_backend());
  else if (config_.balancer.io == io_backend::epoll)
    log_info("sessions are relayed with {} ({})", balancer_.io_backend(), why);
  else
    log_warning("sessions are relayed with {}, the fallback: {}", balancer_.io_backend(), why);
  asio::co_spawn(io_, handle_signals(), asio::detached);
  asio::co_spawn(io_, publish_loop(), asio::detached);
  if (const auto every = service_manager::watchdog_interval()) asio::co_spawn(io_, watchdog_loop(*every), asio::detached);
  service_manager::ready(serving_status());
  io_.run();
  return 0;
}

void agent::open_listeners() {
  // Socket activation: a socket systemd holds (galeratopd.socket) keeps queueing clients while
  // galeratopd restarts, and the new one accepts them. A listener takes the passed socket bound
  // to its own address, or binds one.
  std::vector<service_manager::passed_socket> passed = service_manager::passed_sockets();
  std::string error;
  for (const listener_config& l : config_.effective_listeners()) {
    const std::string where = config_.listeners.empty() ? "agent.listen" : fmt::format("listener {}", l.name);
    auto at = resolve(io_, l.address, error);
    if (!at) throw std::runtime_error(fmt::format("{} {}: {}", where, l.address.to_string(), error));
    auto from_systemd = std::ranges::find(passed, at, &service_manager::passed_socket::listening_at);
    try {
      if (from_systemd == passed.end()) {
        balancer_.listen(l.name, l.role, l.address.to_string(), *at);
        continue;
      }
      balancer_.adopt(l.name, l.role, l.address.to_string(), from_systemd->fd, *at);
      log_info("{} {}: the listening socket systemd passed (socket activation)", where, l.address.to_string());
      passed.erase(from_systemd);
    } catch (const std::system_error& e) {
      throw std::runtime_error(fmt::format("{} {}: {}", where, l.address.to_string(), e.code().message()));
    }
  }
  for (const service_manager::passed_socket& p : passed) {
    log_warning("a socket systemd passed ({}) matches no listener of the configuration: closed",
                p.listening_at ? endpoint_text(*p.listening_at) : std::string("not a listening TCP socket"));
    ::close(p.fd);
  }
}

std::string agent::serving_status() const {
  return fmt::format("serving {} for {} node(s)", listeners_text(), balancer_.table().records().size());
}

std::string agent::listeners_text() const {
  const auto all = config_.effective_listeners();
  if (config_.listeners.empty()) return all.front().address.to_string();
  std::vector<std::string> parts;
  for (const listener_config& l : all)
    parts.push_back(fmt::format("{} ({} {})", l.address.to_string(), l.name, to_string(l.role)));
  return fmt::format("{}", fmt::join(parts, ", "));
}

asio::awaitable<void> agent::watchdog_loop(std::chrono::microseconds every) {
  // Also while sessions finish after SIGTERM: a graceful stop must not look like a hang.
  for (;;) {
    service_manager::watchdog();
    watchdog_timer_.expires_after(every);
    auto [ec] = co_await watchdog_timer_.async_wait(use_tuple);
    if (ec) co_return;  // cancelled at the end of shut_down
  }
}

void agent::become(const run_as& who) {
  // What galeratopd writes or owns after the drop is handed over first: the state files
  // (intents, bootstrap memory) and the control socket, which stays 0600 (or 0660 for its group).
  namespace fs = std::filesystem;
  std::vector<std::string> owned{config_.state_dir};
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(config_.state_dir, ec)) owned.push_back(entry.path().string());
  if (!config_.control.empty()) owned.push_back(config_.control);
  for (const std::string& path : owned)
    if (::chown(path.c_str(), who.uid, static_cast<gid_t>(-1)) != 0)
      throw std::runtime_error(fmt::format("agent.user {}: cannot give {} to it: {}", who.name, path,
                                           std::strerror(errno)));
  std::string error;
  if (!drop_privileges(who, error)) throw std::runtime_error(error);
  log_info("running as user {} (uid {}, gid {}) from now on", who.name, who.uid, who.gid);
}

void agent::open_state_and_exporter() {
  std::string error;
  if (!state_file::prepare_directory(config_.state_dir, error)) throw std::runtime_error(error);
  const std::string path = (std::filesystem::path(config_.state_dir) / memory_file_name).string();
  if (auto text = state_file::read(path, error)) {
    if (memory_.restore(*text, error))
      log_info("bootstrap memory: {} node(s) remembered from {}", memory_.records().size(), path);
    else
      log_warning("bootstrap memory {} is not valid, starting without it: {}", path, error);
  } else if (!error.empty()) {
    log_warning("bootstrap memory: {}", error);
  }
  memory_file_ = std::make_unique<state_file>(path);

  intents_path_ = (std::filesystem::path(config_.state_dir) / intents_file_name).string();
  error.clear();
  if (auto text = state_file::read(intents_path_, error)) {
    // Refusing to start beats silently forgetting that an operator drained a node.
    if (!intents_.restore(*text, error))
      throw std::runtime_error(fmt::format("operator intents {} are not valid ({}); fix or remove the file",
                                           intents_path_, error));
    for (const auto& [address, i] : intents_.all())
      log_info("intent kept from before the restart: node {} {}{}", address, to_string(i.admin),
               i.weight ? fmt::format(", weight {}", *i.weight) : "");
  } else if (!error.empty()) {
    throw std::runtime_error(error);
  }
  if (!config_.metrics.empty()) {
    const auto at = resolve(io_, *parse_endpoint(config_.metrics), error);
    if (!at) throw std::runtime_error(fmt::format("agent.metrics {}: {}", config_.metrics, error));
    auto security = load_metrics_security(config_, error);
    if (!security) throw std::runtime_error(error);
    const std::string where = metrics_text(config_, *security);
    try {
      metrics_ = std::make_unique<metrics_server>(*at, published_, std::move(*security));
    } catch (const std::system_error& e) {
      throw std::runtime_error(fmt::format("agent.metrics {}: cannot listen: {}", config_.metrics, e.code().message()));
    }
    log_info("metrics on {}", where);
  }
}

json agent::status_json() const {
  const auto s = published_.load();
  return s ? to_json(*s) : json(nullptr);
}

void agent::publish() {
  steer_writer();  // on every change of a node's health or intent, and on the clock
  auto s = std::make_shared<snapshot>();
  s->version = std::string(version);
  s->taken_at = std::chrono::system_clock::now();
  const auto now = mono_clock::now();
  for (const node_record& r : balancer_.table().records()) {
    node_snapshot n = snapshot_of(r, balancer_.table().intents_known());
    // The counters say what happened since the start; the window, what happens now.
    query_window& w = query_windows_[r.id];
    w.add(now, n.queries_total, n.query_latency.cumulative);
    n.queries_per_second = w.queries_per_second();
    n.query_p99_seconds = w.p99();
    n.query_p50_seconds = w.quantile(0.5);
    if (const auto e = events_.newest_of(event_kind::operator_action, n.name)) {
      n.intent_by = e->who;
      n.intent_changed = e->at;
    }
    n.writer = balancer_.writer().node == r.id;
    s->nodes.push_back(std::move(n));
  }
  std::erase_if(query_windows_, [&](const auto& w) { return balancer_.table().find(w.first) == nullptr; });

  const bool significant = memory_.note(s->nodes, s->taken_at);
  if (memory_file_ && (significant || (memory_.dirty() && now - memory_written_ >= memory_write_pace))) {
    memory_file_->store(memory_.serialize());
    memory_written_ = now;
  }
  s->bootstrap = memory_.candidate(s->nodes);

  if (balancer_.has_writer_listener()) s->writer = writer_view();
  auto result = model_.update(s->nodes, balancer_.table().unavailable_reason(), s->bootstrap, now, s->writer);
  std::vector<event> happened;
  for (const advisory& a : result.changes.raised) {
    log_warning("advisory {} ({}){}: {}", a.id, to_string(a.severity),
                a.nodes.empty() ? "" : fmt::format(" [{}]", fmt::join(a.nodes, ", ")), a.message);
    happened.push_back(advisory_event(a, true, s->taken_at));
  }
  for (const advisory& a : result.changes.cleared) {
    log_info("advisory {} cleared{}", a.id, a.nodes.empty() ? "" : fmt::format(" [{}]", fmt::join(a.nodes, ", ")));
    happened.push_back(advisory_event(a, false, s->taken_at));
  }
  s->cluster = std::move(result.cluster);
  s->advisories = std::move(result.advisories);
  const frontend_counters& f = balancer_.frontend();
  const balancer_settings& data_path = balancer_.settings();
  s->frontend = {listeners_text(), started_at_, balancer_.session_count(), f.accepted_total,
                 f.rejected_total, f.rejected_no_node, f.rejected_limit, data_path.max_connections,
                 balancer_.held(), f.waits_served, f.waits_refused, f.waits_abandoned,
                 std::chrono::duration<double>(f.longest_wait).count(),
                 std::chrono::duration<double>(data_path.hold).count(), data_path.hold_limit,
                 std::string(balancer_.io_backend()), balancer_.io_backend_why()};
  for (const listener_figures& l : balancer_.listeners()) {
    listener_snapshot ls{l.name, std::string(to_string(l.role)), l.address, l.accepted_total, {}};
    for (const node_record& r : balancer_.table().records())
      if (auto c = l.connections.find(r.id); c != l.connections.end()) ls.connections.emplace_back(r.name(), c->second);
    s->listeners.push_back(std::move(ls));
  }
  s->intents = sync_state_;
  s->intents.pending = static_cast<std::size_t>(
      std::ranges::count_if(intents_.all(), [](const auto& kv) { return kv.second.pending; }));
  if (const auto before = published_.load())
    for (event& e : changes_between(*before, *s)) events_.add(std::move(e));
  for (event& e : happened) events_.add(std::move(e));
  if (auto refused = rejections_.note(s->frontend, s->taken_at)) events_.add(std::move(*refused));
  s->events = events_.last(recent_events);
  published_.publish(std::move(s));
  if (control_) control_->status_changed();
  offer_sync_nodes();
}

void agent::on_drained() {
  // `drain --wait` and the screen learn it now, not at the next tick and push: the event, the
  // status and the push follow the relay's report of the last session's end within milliseconds.
  publish();
  if (control_) control_->push_now();
}

void agent::tell(event_kind kind, std::string node, std::string message, std::string who) {
  events_.add({.seq = 0,
               .at = std::chrono::system_clock::now(),
               .kind = kind,
               .node = std::move(node),
               .message = std::move(message),
               .who = std::move(who)});
}

std::optional<std::string> agent::reload_for(const std::string& who) {
  const auto refused = reload();  // logged there
  if (refused)
    tell(event_kind::reload, {}, fmt::format("reload refused, the running configuration kept: {}", *refused), who);
  else
    tell(event_kind::reload, {}, fmt::format("configuration reloaded: {} node(s)", balancer_.table().records().size()),
         who);
  publish();
  return refused;
}

asio::awaitable<void> agent::publish_loop() {
  // A fixed cadence, not one publish per observation: the cost stays flat however many nodes report.
  // On the monitors' grid (next_tick, balancer/core/clock.hpp), so that an idle agent wakes once per tick.
  for (;;) {
    balancer_.expire_suspects(mono_clock::now());  // on the clock: a hung node's checks end a timeout apart
    publish();
    publish_timer_.expires_at(next_tick(mono_clock::now(), config_.monitor.interval));
    auto [ec] = co_await publish_timer_.async_wait(use_tuple);
    if (ec) co_return;  // cancelled at the end of shut_down
  }
}

void agent::open_control() {
  control_settings cs;
  cs.unix_path = config_.control;
  cs.group = config_.control_group;
  if (!config_.control_tcp.empty()) {
    std::string error;
    auto ep = resolve(io_, *parse_endpoint(config_.control_tcp), error);
    if (!ep) throw std::runtime_error(fmt::format("agent.control_tcp {}: {}", config_.control_tcp, error));
    if (!ep->address().is_loopback())
      log_warning("agent.control_tcp {} is not a loopback address: anyone who can reach it and has the token "
                  "can drain nodes", config_.control_tcp);
    auto token = read_secret_file(config_.control_token_file, "agent.control_token_file", error);
    if (!token) throw std::runtime_error(error);
    if (token->size() < 16)
      throw std::runtime_error(fmt::format("agent.control_token_file {}: the token (first line) must be at least "
                                           "16 characters", config_.control_token_file));
    cs.token = std::move(*token);
    cs.tcp = *ep;
    if (config_.control_tls) {
      cs.tls = make_server_context(control_tls_files(config_), "agent.control_tls", error);
      if (!cs.tls) throw std::runtime_error(error);
    }
  }
  if (cs.unix_path.empty() && !cs.tcp) return;
  control_ = std::make_unique<control_server>(
      io_, std::move(cs), [this](control_request r) { return handle_control(std::move(r)); },
      [this] { return status_json(); }, config_.monitor.interval);
  if (!config_.control.empty())
    log_info("control on {} (mode {})", config_.control, config_.control_group.empty() ? "0600" : "0660");
  if (!config_.control_tcp.empty() && config_.control_tls)
    log_info("control on tcp {} (TLS 1.2+, certificate {}, token required)", config_.control_tcp,
             config_.control_tls_cert);
  else if (!config_.control_tcp.empty())
    log_warning("control on tcp {} WITHOUT TLS (agent.control_tls = false): the token and every request cross the "
                "network in clear; anyone who can read the traffic can drain nodes", config_.control_tcp);
}

asio::awaitable<json> agent::handle_control(control_request r) {
  try {
    switch (r.command) {
      case control_command::status:
        co_return control_ok(r.id, {{"status", status_json()}});
      case control_command::events: {
        json events = json::array();
        for (const event& e : events_.since(r.since)) events.push_back(to_json(e));
        co_return control_ok(r.id, {{"events", std::move(events)}, {"newest", events_.newest()}});
      }
      case control_command::reload:
        if (auto error = reload_for(r.who)) co_return control_fail(r.id, {"reload_refused", *error});
        co_return control_ok(r.id, {{"nodes", balancer_.table().records().size()}});
      case control_command::writer: {
        control_error error;
        const node_record* n = find_node(balancer_.table().records(), r.node, error);
        if (!n) co_return control_fail(r.id, error);
        co_return co_await move_writer(r, n->id);
      }
      default: {
        control_error error;
        const node_record* n = find_node(balancer_.table().records(), r.node, error);
        if (!n) co_return control_fail(r.id, error);
        co_return co_await change_intent(r, n->address);
      }
    }
  } catch (const std::exception& e) {  // a bug must not take the endpoint down
    log_error("control {}: {}", to_string(r.command), e.what());
    co_return control_fail(r.id, {"internal", e.what()});
  }
}

}  // namespace galeratop
