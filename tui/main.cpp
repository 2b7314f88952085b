// galeratop: the client of galeratopd's control endpoint. Exit codes: 0 done, 1 the agent
// refused or could not be reached (or a wait timed out or the writer moved on, or health found no eligible
// node), 2 usage errors.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "agent/config/config.hpp"
#include "agent/config/endpoint.hpp"
#include "agent/version.hpp"
#include "balancer/core/weight.hpp"
#include "tui/control_client.hpp"
#include "tui/drain_wait.hpp"
#include "tui/event_text.hpp"
#include "tui/live_screen.hpp"
#include "tui/status_table.hpp"
#include "tui/writer_text.hpp"

namespace {
using json = nlohmann::json;
using galeratop::control_client;
using galeratop::control_unavailable;
constexpr const char* default_config = "/etc/galeratop/galeratopd.toml";
constexpr auto request_timeout = std::chrono::seconds(5);

struct options {
  std::vector<std::string> controls;  ///< --control, once per agent (several only for the live screen)
  std::string control_file;           ///< --control-file: more agents, one per line
  std::string token_file;
  std::string ca_file;
  bool insecure = false;
  bool plain = false;
  std::string config_file = default_config;
  std::string node;
  std::string weight;
  std::string wait_timeout = "10m";
  std::string writer_timeout = "1m";  ///< writer --wait: a switch takes a few monitor intervals, or writer_barrier
  std::string interval = "1s";
  bool readonly = false;
  bool json_output = false;
  bool wait = false;
  bool force = false;
  bool follow = false;
};

/// --control, else $GALERATOP_CONTROL, else agent.control of the agent's configuration, else the default.
std::string control_target(const options& o) {
  if (!o.controls.empty()) return o.controls.front();
  if (const char* env = std::getenv("GALERATOP_CONTROL"); env && *env) return env;
  if (std::ifstream(o.config_file)) {
    auto r = galeratop::load_config_file(o.config_file);
    if (r.value && !r.value->control.empty()) return r.value->control;
  }
  return galeratop::config{}.control;
}

/// The agents the live screen follows: every --control, then every line of --control-file (blank
/// lines and # comments skipped); when there are none, the one control_target() finds.
std::vector<std::string> live_targets(const options& o) {
  std::vector<std::string> out = o.controls;
  if (!o.control_file.empty()) {
    std::ifstream in(o.control_file);
    if (!in) throw CLI::ValidationError("--control-file", "cannot read " + o.control_file);
    for (std::string line; std::getline(in, line);) {
      const auto first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line[first] == '#') continue;
      out.push_back(line.substr(first, line.find_last_not_of(" \t\r") - first + 1));
    }
    if (out.size() == o.controls.size())
      throw CLI::ValidationError("--control-file", o.control_file + " names no agent (one PATH or HOST:PORT per line)");
  }
  if (out.empty()) out.push_back(control_target(o));
  return out;
}

std::string read_token(const options& o) {
  if (o.token_file.empty()) return {};
  std::ifstream in(o.token_file);
  std::string token;
  if (!in || !std::getline(in, token)) throw control_unavailable("cannot read the token file " + o.token_file);
  if (!token.empty() && token.back() == '\r') token.pop_back();
  return token;
}

/// How a TCP control connection is secured: TLS verified against --ca-file (else the system's CAs)
/// unless --insecure or --plain says otherwise.
galeratop::control_tls_options tls_options(const options& o) {
  using galeratop::control_security;
  return {o.plain ? control_security::plain : o.insecure ? control_security::unverified : control_security::verified,
          o.ca_file};
}

/// Prints the agent's refusal; exit 1.
int refused(const json& answer) {
  const json& e = answer.value("error", json::object());
  std::fprintf(stderr, "galeratop: %s (%s)\n", e.value("message", "refused").c_str(), e.value("code", "?").c_str());
  return 1;
}

/// Follows the agent's pushes until the node has no connection left, or the timeout. The agent
/// pushes the status the moment the node's last session ends, so this returns within a few ms.
int wait_until_empty(control_client& c, const json& node, std::chrono::milliseconds timeout) {
  const std::string address = node.at("address");
  const std::string name = node.at("name");
  const auto start = std::chrono::steady_clock::now();
  json answer = c.request({{"cmd", "subscribe"}});
  if (!answer.value("ok", false)) return refused(answer);
  json status = answer.at("status");
  std::int64_t said = -1;
  for (;;) {
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    const galeratop::drain_progress p = galeratop::drain_wait_progress(status, name, address, elapsed, timeout);
    switch (p.state) {
      case galeratop::drain_wait::drained:
        std::printf("%s\n", p.text.c_str());
        return 0;
      case galeratop::drain_wait::readied:
      case galeratop::drain_wait::removed:
      case galeratop::drain_wait::timed_out:
        std::fprintf(stderr, "galeratop: %s\n", p.text.c_str());
        return 1;
      case galeratop::drain_wait::draining:
        if (p.left != said) std::printf("%s\n", p.text.c_str());
        std::fflush(stdout);
        said = p.left;
        break;
    }
    if (auto event = c.next_event(std::min<std::chrono::milliseconds>(timeout - elapsed, request_timeout)))
      status = event->at("status");
  }
}

/// Follows the agent's pushes until the node asked for is the writer and no writer-listener session
/// is left on another node, or the timeout; gives up at once when the writer moves on past it.
int wait_until_writer(control_client& c, const json& writer, std::chrono::milliseconds timeout) {
  const std::string name = writer.value("node", ""), address = writer.value("address", "");
  const auto epoch = writer.value("epoch", std::uint64_t{0});
  const auto start = std::chrono::steady_clock::now();
  json answer = c.request({{"cmd", "subscribe"}});
  if (!answer.value("ok", false)) return refused(answer);
  std::optional<json> status = answer.at("status");
  std::string said;
  galeratop::writer_progress last;
  for (;;) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (status) {
      last = galeratop::writer_wait_progress(*status, name, address, epoch);
      switch (last.state) {
        case galeratop::writer_wait::settled:
          std::printf("%s after %.1f s\n", last.text.c_str(), elapsed);
          return 0;
        case galeratop::writer_wait::moved_on:
        case galeratop::writer_wait::no_writer_listener:
          std::fprintf(stderr, "galeratop: %s\n", last.text.c_str());
          return 1;
        case galeratop::writer_wait::switching:
          if (last.text != said) std::printf("%s (%.0f s)\n", last.text.c_str(), elapsed);
          std::fflush(stdout);
          said = last.text;
          break;
      }
    }
    const auto remaining = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (remaining.count() <= 0) {
      std::fprintf(stderr, "galeratop: %s is not the settled writer after %s: %s\n", name.c_str(),
                   galeratop::format_duration(timeout).c_str(), last.text.c_str());
      return 1;
    }
    auto event = c.next_event(std::min<std::chrono::milliseconds>(remaining, request_timeout));
    status = event ? std::optional<json>(event->at("status")) : std::nullopt;
  }
}

int writer_command(const options& o) {
  control_client c(control_target(o), read_token(o), request_timeout, tls_options(o));
  json answer = c.request({{"cmd", "writer"}, {"node", o.node}});
  if (!answer.value("ok", false)) return refused(answer);
  std::printf("%s\n", galeratop::writer_answer_text(answer).c_str());
  std::fflush(stdout);
  if (!o.wait) return 0;
  return wait_until_writer(c, answer.at("writer"), *galeratop::parse_duration(o.writer_timeout));
}

int node_command(const options& o, const std::string& cmd) {
  control_client c(control_target(o), read_token(o), request_timeout, tls_options(o));
  json req{{"cmd", cmd}, {"node", o.node}};
  if (o.force) req["force"] = true;
  if (cmd == "weight") {
    if (o.weight == "default") {
      req["weight"] = nullptr;
    } else {
      try {
        std::size_t used = 0;
        const long long w = std::stoll(o.weight, &used);
        if (used != o.weight.size() || !galeratop::valid_weight(w)) throw std::out_of_range("weight");
        req["weight"] = w;
      } catch (const std::logic_error&) {
        std::fprintf(stderr, "galeratop: weight: expected %s or \"default\", not \"%s\"\n",
                     std::string(galeratop::weight_rule).c_str(), o.weight.c_str());
        return 2;
      }
    }
  }
  json answer = c.request(req);
  if (!answer.value("ok", false)) return refused(answer);
  const json& n = answer.at("node");
  std::printf("%s (%s): %s%s, weight %u, %s, %u connection(s) open\n", n.value("name", "").c_str(),
              n.value("address", "").c_str(), n.value("admin", "").c_str(),
              answer.value("changed", false) ? (" (was " + n.value("previous_admin", "") + ")").c_str() : " (unchanged)",
              n.value("weight", 0u), n.value("eligible", false) ? "eligible" : "not eligible",
              n.value("connections", 0u));
  // Where the intent lives: every agent of the group, or (the cluster could not be written) this one only.
  if (const auto shared = answer.find("shared"); shared != answer.end() && shared->is_object())
    std::printf("shared with every agent of group \"%s\" (intent version %llu)\n",
                shared->value("group", "").c_str(), static_cast<unsigned long long>(shared->value("version", 0ULL)));
  if (answer.contains("warning"))
    std::fprintf(stderr, "galeratop: warning: %s\n", answer.value("warning", "").c_str());
  std::fflush(stdout);
  if (cmd == "drain" && o.wait) {
    auto timeout = galeratop::parse_duration(o.wait_timeout);
    return wait_until_empty(c, n, *timeout);
  }
  return 0;
}

int status_command(const options& o) {
  control_client c(control_target(o), read_token(o), request_timeout, tls_options(o));
  json answer = c.request({{"cmd", "status"}});
  if (!answer.value("ok", false)) return refused(answer);
  if (o.json_output)
    std::cout << answer.at("status").dump(2) << "\n";
  else
    std::cout << galeratop::render_status_table(answer.at("status"));
  return 0;
}

int health_command(const options& o) {
  // For keepalived's track_script (and any other liveness probe): healthy means this agent
  // answers and would send a new client somewhere, not merely that its process exists.
  control_client c(control_target(o), read_token(o), request_timeout, tls_options(o));
  json answer = c.request({{"cmd", "status"}});
  if (!answer.value("ok", false)) return refused(answer);
  const json& nodes = answer.at("status").at("nodes");
  const auto eligible = std::count_if(nodes.begin(), nodes.end(), [](const json& n) { return n.value("eligible", false); });
  if (eligible == 0) {
    std::fprintf(stderr, "galeratop: unhealthy: no node is eligible (%zu configured)\n", nodes.size());
    return 1;
  }
  std::printf("healthy: %ld of %zu node(s) eligible\n", static_cast<long>(eligible), nodes.size());
  return 0;
}

/// Prints the events after `last`, oldest first, and returns the seq of the newest printed.
std::uint64_t print_events(const json& events, std::uint64_t last, bool as_json) {
  for (const json& e : events) {
    const auto seq = e.value("seq", std::uint64_t{0});
    if (seq <= last) continue;
    // --json: one object per line (JSON lines), so that a follower can be piped into jq.
    std::cout << (as_json ? e.dump() : galeratop::event_line(e, true)) << "\n";
    last = seq;
  }
  std::cout.flush();
  return last;
}

int events_command(const options& o) {
  control_client c(control_target(o), read_token(o), request_timeout, tls_options(o));
  json answer = c.request({{"cmd", "events"}, {"since", 0}});
  if (!answer.value("ok", false)) return refused(answer);
  std::uint64_t last = print_events(answer.at("events"), 0, o.json_output);
  if (!o.follow) return 0;
  // Every push carries the latest events; a gap between two pushes (a burst of more than the
  // push holds) is filled from the whole log.
  answer = c.request({{"cmd", "subscribe"}});
  if (!answer.value("ok", false)) return refused(answer);
  for (json status = answer.at("status");;) {
    const json& recent = status.at("events");
    if (!recent.empty() && recent.front().value("seq", std::uint64_t{0}) > last + 1) {
      json more = c.request({{"cmd", "events"}, {"since", last}});
      if (!more.value("ok", false)) return refused(more);
      last = print_events(more.at("events"), last, o.json_output);
    }
    last = print_events(recent, last, o.json_output);
    // Pushes come every monitor interval or so; a long silence means the agent is stuck.
    auto push = c.next_event(std::chrono::seconds(30));
    if (!push) throw control_unavailable("galeratopd sent nothing for 30 s");
    status = push->at("status");
  }
}

int reload_command(const options& o) {
  control_client c(control_target(o), read_token(o), request_timeout, tls_options(o));
  json answer = c.request({{"cmd", "reload"}});
  if (!answer.value("ok", false)) return refused(answer);
  std::printf("configuration reloaded: %d node(s)\n", answer.value("nodes", 0));
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"galeratop - watch and steer galeratopd, the Galera-aware balancer; see galeratop(1).\n"
               "NODE is a node's name or its address (HOST:PORT).",
               "galeratop"};
  app.set_version_flag("-V,--version", fmt::format("galeratop {}", galeratop::version));
  app.require_subcommand(0, 1);
  options o;
  app.add_option("--control", o.controls,
                 "galeratopd's control endpoint: a unix socket PATH or HOST:PORT (TCP over TLS, needs --token-file); "
                 "default $GALERATOP_CONTROL, else agent.control in --config, else /run/galeratop/control.sock. "
                 "The live screen takes it once per agent (Tab shows the next)")
      ->option_text("PATH|HOST:PORT")
      ->allow_extra_args(false);
  app.add_option("--control-file", o.control_file,
                 "Live screen: more agents to follow, one control endpoint per line (# comments)")
      ->option_text("FILE");
  app.add_option("--token-file", o.token_file, "File whose first line is the TCP control token")->option_text("FILE");
  auto* ca_file = app.add_option("--ca-file", o.ca_file, "TCP control: trust the agent's certificate only if this "
                                 "CA (PEM) signed it; default the system's CAs")->option_text("FILE");
  auto* insecure = app.add_flag("--insecure", o.insecure, "TCP control: TLS without checking the agent's "
                                "certificate (encrypted, but anyone in the middle can read the token)");
  app.add_flag("--plain", o.plain, "TCP control without TLS, for an agent with agent.control_tls = false: the "
               "token crosses in clear")->excludes(ca_file)->excludes(insecure);
  insecure->excludes(ca_file);
  app.add_option("--config", o.config_file, "galeratopd's configuration, read only for agent.control")
      ->option_text(fmt::format("FILE (default {})", default_config));
  app.add_option("--interval", o.interval, "Live screen: refresh interval (250ms to 10s; + and - change it)")
      ->option_text("DURATION (default 1s)")
      ->check([](const std::string& v) {
        auto d = galeratop::parse_duration(v);
        return d && *d >= std::chrono::milliseconds(250) && *d <= std::chrono::seconds(10) ? ""
                                                                                           : "expected 250ms to 10s";
      });
  app.add_flag("--readonly", o.readonly, "Live screen: disable the drain, ready, maint, weight and writer keys");

  auto* status = app.add_subcommand("status", "Show the cluster, every node and the advisories");
  status->add_flag("--json", o.json_output, "Print the status object (JSON) instead of the table");
  auto node_arg = [&](CLI::App* sub) { sub->add_option("NODE", o.node, "Name or address of the node")->required(); };
  auto* drain = app.add_subcommand("drain", "No new connections to NODE; open ones are closed at their next safe point");
  node_arg(drain);
  drain->add_flag("--wait", o.wait, "Return only when NODE has no connection left");
  drain->add_option("--timeout", o.wait_timeout, "How long --wait waits before exit 1")
      ->capture_default_str()
      ->option_text("DURATION")
      ->check([](const std::string& v) { return galeratop::parse_duration(v) ? "" : "expected a duration like 30s or 5m"; });
  drain->add_flag("--force", o.force, "Also when no other node would take new clients");
  auto* undrain = app.add_subcommand("undrain", "Put NODE back into rotation (same as ready)");
  node_arg(undrain);
  auto* ready = app.add_subcommand("ready", "Put NODE back into rotation");
  node_arg(ready);
  auto* maint = app.add_subcommand("maint", "Like drain; what is left is closed after the maint grace");
  node_arg(maint);
  maint->add_flag("--force", o.force, "Also when no other node would take new clients");
  auto* weight = app.add_subcommand("weight", "Balance NODE with weight N (0 = no new connections)");
  node_arg(weight);
  weight->add_option("N", o.weight, "0 to 1000, or \"default\" for the configured weight")->required();
  weight->add_flag("--force", o.force, "Allow weight 0 when no other node would take new clients");
  auto* writer = app.add_subcommand("writer", "Make NODE the writer: every agent's writer listeners send their "
                                              "sessions to it");
  node_arg(writer);
  writer->add_flag("--wait", o.wait, "Return only when NODE is the writer and no writer-listener session is left "
                                     "on another node");
  writer->add_option("--timeout", o.writer_timeout, "How long --wait waits before exit 1")
      ->capture_default_str()
      ->option_text("DURATION")
      ->check([](const std::string& v) { return galeratop::parse_duration(v) ? "" : "expected a duration like 30s or 5m"; });
  auto* reload = app.add_subcommand("reload", "Make galeratopd re-read its configuration (as SIGHUP)");
  auto* events = app.add_subcommand("events", "Print galeratopd's recent events (node states, advisories, "
                                              "operators' actions, drains, writer, reloads, refused clients)");
  events->add_flag("--follow,-f", o.follow, "Go on printing each new event as it happens");
  events->add_flag("--json", o.json_output, "One JSON object per event and line");
  auto* health = app.add_subcommand("health", "Exit 0 only if galeratopd answers and a node is eligible "
                                              "(keepalived track_script)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (app.get_subcommands().size() == 1 && (o.controls.size() > 1 || !o.control_file.empty())) {
    std::fprintf(stderr, "galeratop: %s asks one agent: give --control once (several are for the live screen)\n",
                 app.get_subcommands().front()->get_name().c_str());
    return 2;
  }
  try {
    if (*status) return status_command(o);
    if (*reload) return reload_command(o);
    if (*health) return health_command(o);
    if (*events) return events_command(o);
    if (*writer) return writer_command(o);
    for (auto* sub : {drain, undrain, ready, maint, weight})
      if (*sub) return node_command(o, sub->get_name());
    std::vector<std::string> targets = live_targets(o);  // a bad --control-file is told before the terminal is
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
      std::fprintf(stderr, "galeratop: the live screen needs a terminal; for scripts use a subcommand (status, ...)\n");
      return 2;
    }
    galeratop::live_options live{std::move(targets), read_token(o), tls_options(o),
                                 *galeratop::parse_duration(o.interval), o.readonly,
                                 std::getenv("NO_COLOR") == nullptr || !*std::getenv("NO_COLOR")};
    return galeratop::run_live_screen(live);
  } catch (const CLI::ValidationError& e) {
    std::fprintf(stderr, "galeratop: %s\n", e.what());
    return 2;
  } catch (const control_unavailable& e) {
    std::fprintf(stderr, "galeratop: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {  // a malformed answer: say so rather than abort
    std::fprintf(stderr, "galeratop: unexpected answer from galeratopd: %s\n", e.what());
    return 1;
  }
}
