#include "agent/config/config.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "balancer/core/weight.hpp"


namespace galeratop {
namespace {

/// Sets one field from a TOML value, or says why the value is refused.
using setter = std::function<std::optional<std::string>(const toml::node&, config&)>;

template <class Field>
using field_of = std::function<Field&(config&)>;

setter string_key(field_of<std::string> field) {
  return [field](const toml::node& n, config& c) -> std::optional<std::string> {
    auto v = n.value<std::string>();
    if (!n.is_string() || !v) return "expected a string";
    field(c) = *v;
    return std::nullopt;
  };
}

setter endpoint_key(field_of<endpoint> field) {
  return [field](const toml::node& n, config& c) -> std::optional<std::string> {
    auto text = n.value<std::string>();
    auto e = text && n.is_string() ? parse_endpoint(*text) : std::nullopt;
    if (!e) return "expected \"HOST:PORT\" (IPv6 as \"[::1]:3306\")";
    field(c) = *e;
    return std::nullopt;
  };
}

template <class Duration>
setter duration_key(field_of<Duration> field, Duration min, Duration max) {
  return [=](const toml::node& n, config& c) -> std::optional<std::string> {
    auto text = n.value<std::string>();
    auto d = text && n.is_string() ? parse_duration(*text) : std::nullopt;
    if (!d) return "expected a duration such as \"250ms\", \"2s\", \"5m\"";
    if (*d < min || *d > max)
      return fmt::format("must be between {} and {}", format_duration(min), format_duration(max));
    if (std::chrono::duration_cast<Duration>(*d) != *d) return "must be a whole number of seconds";
    field(c) = std::chrono::duration_cast<Duration>(*d);
    return std::nullopt;
  };
}

template <class Int>
setter integer_key(field_of<Int> field, std::int64_t min, std::int64_t max) {
  return [=](const toml::node& n, config& c) -> std::optional<std::string> {
    auto v = n.value<std::int64_t>();
    if (!n.is_integer() || !v) return "expected an integer";
    if (*v < min || *v > max) return fmt::format("must be between {} and {}", min, max);
    field(c) = static_cast<Int>(*v);
    return std::nullopt;
  };
}

setter fraction_key(field_of<double> field) {
  return [field](const toml::node& n, config& c) -> std::optional<std::string> {
    auto v = n.value<double>();  // an integer 0 or 1 converts too
    if (!(n.is_floating_point() || n.is_integer()) || !v || *v < 0 || *v > 1) return "expected a number from 0 to 1";
    field(c) = *v;
    return std::nullopt;
  };
}

setter bool_key(field_of<bool> field) {
  return [field](const toml::node& n, config& c) -> std::optional<std::string> {
    if (!n.is_boolean()) return "expected true or false";
    field(c) = *n.value<bool>();
    return std::nullopt;
  };
}

/// A key whose value is one of the names in `names` (the core's table of them).
template <class Enum, std::size_t N>
setter choice_key(field_of<Enum> field, const std::array<std::pair<Enum, std::string_view>, N>& names) {
  return [field, &names](const toml::node& n, config& c) -> std::optional<std::string> {
    const auto value = n.is_string() ? from_name(names, *n.value<std::string>()) : std::nullopt;
    if (value) {
      field(c) = *value;
      return std::nullopt;
    }
    return expected_one_of(names);
  };
}

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;
using sec = std::chrono::seconds;

/// Every key of the plain tables; anything else is refused as unknown, so a typo is never silently ignored.
const std::map<std::string, std::map<std::string, setter>>& sections() {
  static const std::map<std::string, std::map<std::string, setter>> table{
      {"agent",
       {
           {"listen", endpoint_key([](config& c) -> endpoint& { return c.listen; })},
           {"control", string_key([](config& c) -> std::string& { return c.control; })},
           {"control_group", string_key([](config& c) -> std::string& { return c.control_group; })},
           {"control_tcp", string_key([](config& c) -> std::string& { return c.control_tcp; })},
           {"control_token_file", string_key([](config& c) -> std::string& { return c.control_token_file; })},
           {"control_tls", bool_key([](config& c) -> bool& { return c.control_tls; })},
           {"control_tls_cert", string_key([](config& c) -> std::string& { return c.control_tls_cert; })},
           {"control_tls_key", string_key([](config& c) -> std::string& { return c.control_tls_key; })},
           {"metrics", string_key([](config& c) -> std::string& { return c.metrics; })},
           {"metrics_tls_cert", string_key([](config& c) -> std::string& { return c.metrics_tls_cert; })},
           {"metrics_tls_key", string_key([](config& c) -> std::string& { return c.metrics_tls_key; })},
           {"metrics_basic_auth_users",
            string_key([](config& c) -> std::string& { return c.metrics_basic_auth_users; })},
           {"shutdown_grace", duration_key<ms>([](config& c) -> ms& { return c.shutdown_grace; }, 0ms, 3600000ms)},
           {"state_dir", string_key([](config& c) -> std::string& { return c.state_dir; })},
           {"user", string_key([](config& c) -> std::string& { return c.user; })},
       }},
      {"monitor",
       {
           {"user", string_key([](config& c) -> std::string& { return c.monitor.user; })},
           {"password_file", string_key([](config& c) -> std::string& { return c.monitor.password_file; })},
           {"interval", duration_key<ms>([](config& c) -> ms& { return c.monitor.interval; }, 50ms, 60000ms)},
           {"timeout", duration_key<sec>([](config& c) -> sec& { return c.monitor.timeout; }, 1s, 60s)},
           {"rise", integer_key<int>([](config& c) -> int& { return c.monitor.rise; }, 1, 100)},
           {"fall", integer_key<int>([](config& c) -> int& { return c.monitor.fall; }, 1, 100)},
           {"hung_time", duration_key<ms>([](config& c) -> ms& { return c.monitor.hung_time; }, 1000ms, 3600000ms)},
       }},
      {"balancer",
       {
           {"policy", choice_key<balance_policy>([](config& c) -> balance_policy& { return c.balancer.policy; },
                                                 balance_policy_names)},
           {"donor", choice_key<donor_policy>([](config& c) -> donor_policy& { return c.balancer.donors; },
                                              donor_policy_names)},
           {"connect_timeout",
            duration_key<ms>([](config& c) -> ms& { return c.balancer.connect_timeout; }, 10ms, 60000ms)},
           {"connect_attempts", integer_key<int>([](config& c) -> int& { return c.balancer.connect_attempts; }, 1, 16)},
           {"close_on_failure", bool_key([](config& c) -> bool& { return c.balancer.close_on_failure; })},
           {"maint_grace",
            duration_key<ms>([](config& c) -> ms& { return c.balancer.maint_grace; }, 0ms, 3600000ms)},
           {"close_idle", duration_key<ms>([](config& c) -> ms& { return c.balancer.close_idle; }, 0ms, 60000ms)},
           {"close_patience",
            duration_key<ms>([](config& c) -> ms& { return c.balancer.close_patience; }, 0ms, 3600000ms)},
           {"max_connections", integer_key<std::size_t>([](config& c) -> std::size_t& {
              return c.balancer.max_connections;
            }, 0, 10'000'000)},
           {"proxy_protocol", bool_key([](config& c) -> bool& { return c.balancer.proxy_protocol; })},
           {"io_backend",
            choice_key<io_backend>([](config& c) -> io_backend& { return c.balancer.io; }, io_backend_names)},
           {"hold", duration_key<ms>([](config& c) -> ms& { return c.balancer.hold; }, 0ms, 600000ms)},
           {"hold_limit", integer_key<std::size_t>([](config& c) -> std::size_t& { return c.balancer.hold_limit; },
                                                   1, 1'000'000)},
           {"idle_timeout", duration_key<sec>([](config& c) -> sec& { return c.balancer.idle_timeout; }, 0s,
                                              sec(30 * 24 * 3600))},
       }},
      {"intents",
       {
           {"shared", bool_key([](config& c) -> bool& { return c.intents.shared; })},
           {"group", [](const toml::node& n, config& c) -> std::optional<std::string> {
              auto v = n.value<std::string>();
              if (!n.is_string() || !v || !valid_intent_group(*v))
                return std::string(intent_group_rule);
              c.intents.group = *v;
              return std::nullopt;
            }},
       }},
      {"writer",
       {
           {"failback", bool_key([](config& c) -> bool& { return c.writer.failback; })},
           {"barrier", duration_key<ms>([](config& c) -> ms& { return c.writer.barrier; }, 0ms, 600000ms)},
       }},
      {"cluster",
       {
           {"flow_control_paused", fraction_key([](config& c) -> double& { return c.cluster.flow_control_paused; })},
           {"flow_control_window",
            duration_key<ms>([](config& c) -> ms& { return c.cluster.flow_control_window; }, 1000ms, 600000ms)},
           {"desync_long",
            duration_key<ms>([](config& c) -> ms& { return c.cluster.desync_long; }, 10000ms, 86400000ms)},
       }},
  };
  return table;
}

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

/// writer_priority's range: 0 (never the writer) to 1000.
constexpr bool valid_writer_priority(std::int64_t p) { return p >= 0 && p <= 1000; }
constexpr std::string_view writer_priority_rule = "expected an integer from 0 to 1000 (0 = never the writer)";

/// A name of the configuration (an intents group, a listener): 1 to 64 of A-Z a-z 0-9 . _ -
bool plain_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::ranges::all_of(name, [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
           ch == '_' || ch == '-';
  });
}

class parser {
 public:
  parser(std::string_view source) : source_(source) { c_.source = source_; }

  config_result run(const toml::table& root) {
    for (const auto& [key, value] : root) {
      const std::string name(key.str());
      if (name == "node")
        nodes(value);
      else if (name == "listener")
        listeners(value);
      else if (auto s = sections().find(name); s != sections().end())
        section(name, s->second, value);
      else
        error(line_of(value), name,
              "unknown section (expected agent, monitor, balancer, cluster, intents, writer, node or listener)");
    }
    // Only the file knows whether agent.listen was written: the parsed configuration holds a value either way.
    if (const toml::node* listen = root["agent"]["listen"].node(); listen && root.contains("listener"))
      error(line_of(*listen), "agent.listen",
            "give the client-facing addresses either as agent.listen or as [[listener]] entries, not both");
    for (auto& e : validate(c_)) errors_.push_back(std::move(e));
    if (errors_.empty()) return {std::move(c_), {}};
    return {std::nullopt, std::move(errors_)};
  }

 private:
  void error(int line, std::string key, std::string message) {
    errors_.push_back({std::string(source_), line, std::move(key), std::move(message)});
  }

  void section(const std::string& name, const std::map<std::string, setter>& keys, const toml::node& value) {
    const toml::table* t = value.as_table();
    if (!t) return error(line_of(value), name, "expected a table [" + name + "]");
    for (const auto& [key, v] : *t) {
      const std::string full = fmt::format("{}.{}", name, key.str());
      auto k = keys.find(std::string(key.str()));
      if (k == keys.end()) {
        error(line_of(v), full, "unknown key");
      } else if (auto why = k->second(v, c_)) {
        error(line_of(v), full, *why);
      }
    }
  }

  void nodes(const toml::node& value) {
    const toml::array* a = value.as_array();
    if (!a || !a->is_array_of_tables()) return error(line_of(value), "node", "expected [[node]] tables");
    for (std::size_t i = 0; i < a->size(); ++i) {
      const toml::table& t = *a->get(i)->as_table();
      const std::string prefix = fmt::format("node[{}]", i);
      node_config n;
      n.line = line_of(t);
      bool has_address = false;
      for (const auto& [key, v] : t) {
        const std::string k(key.str());
        if (k == "name" && v.is_string()) {
          n.name = *v.value<std::string>();
        } else if (k == "address") {
          auto e = v.is_string() ? parse_endpoint(*v.value<std::string>()) : std::nullopt;
          if (!e)
            error(line_of(v), prefix + ".address", "expected \"HOST:PORT\" (IPv6 as \"[::1]:3306\")");
          else
            n.address = *e, has_address = true;
        } else if (k == "weight" && v.is_integer() && valid_weight(*v.value<std::int64_t>())) {
          n.weight = static_cast<std::uint32_t>(*v.value<std::int64_t>());
        } else if (k == "writer_priority" && v.is_integer() && valid_writer_priority(*v.value<std::int64_t>())) {
          n.writer_priority = static_cast<std::uint32_t>(*v.value<std::int64_t>());
        } else if (k == "proxy_protocol" && v.is_boolean()) {
          n.proxy_protocol = *v.value<bool>();
        } else if (k == "proxy_protocol") {
          error(line_of(v), prefix + ".proxy_protocol", "expected true or false");
        } else if (k == "name") {
          error(line_of(v), prefix + ".name", "expected a string");
        } else if (k == "weight") {
          error(line_of(v), prefix + ".weight", fmt::format("expected {}", weight_rule));
        } else if (k == "writer_priority") {
          error(line_of(v), prefix + ".writer_priority", std::string(writer_priority_rule));
        } else {
          error(line_of(v), prefix + "." + k, "unknown key (expected name, address, weight, writer_priority or proxy_protocol)");
        }
      }
      if (!has_address && t.find("address") == t.end())
        error(line_of(t), prefix + ".address", "missing: every [[node]] needs an address");
      c_.nodes.push_back(std::move(n));
    }
  }

  void listeners(const toml::node& value) {
    const toml::array* a = value.as_array();
    if (!a || !a->is_array_of_tables()) return error(line_of(value), "listener", "expected [[listener]] tables");
    for (std::size_t i = 0; i < a->size(); ++i) {
      const toml::table& t = *a->get(i)->as_table();
      const std::string prefix = fmt::format("listener[{}]", i);
      listener_config l;
      l.line = line_of(t);
      std::optional<std::string> name;
      for (const auto& [key, v] : t) {
        const std::string k(key.str());
        if (k == "name") {
          auto text = v.value<std::string>();
          if (v.is_string() && text && plain_name(*text))
            name = *text;
          else
            error(line_of(v), prefix + ".name", std::string(intent_group_rule));
        } else if (k == "address") {
          auto e = v.is_string() ? parse_endpoint(*v.value<std::string>()) : std::nullopt;
          if (!e)
            error(line_of(v), prefix + ".address", "expected \"HOST:PORT\" (IPv6 as \"[::1]:3306\")");
          else
            l.address = *e;
        } else if (k == "role") {
          auto role = v.is_string() ? from_name(listener_role_names, *v.value<std::string>()) : std::nullopt;
          if (!role)
            error(line_of(v), prefix + ".role", expected_one_of(listener_role_names));
          else
            l.role = *role;
        } else {
          error(line_of(v), prefix + "." + k, "unknown key (expected name, address or role)");
        }
      }
      if (t.find("address") == t.end())
        error(line_of(t), prefix + ".address", "missing: every [[listener]] needs an address");
      l.name = name ? *name : std::string(to_string(l.role));
      c_.listeners.push_back(std::move(l));
    }
  }

  std::string_view source_;
  config c_;
  std::vector<config_error> errors_;
};

}  // namespace

std::string config_error::to_string() const {
  const std::string where = line > 0 ? fmt::format("{}:{}", file, line) : file;
  return key.empty() ? fmt::format("{}: {}", where, message) : fmt::format("{}: {}: {}", where, key, message);
}

config_result parse_config(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return {std::nullopt,
            {{std::string(source), static_cast<int>(e.source().begin.line), "", std::string(e.description())}}};
  }
  return parser(source).run(root);
}

config_result load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {std::nullopt, {{path, 0, "", "cannot be read"}}};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

bool valid_intent_group(std::string_view group) { return plain_name(group); }

std::vector<listener_config> config::effective_listeners() const {
  if (!listeners.empty()) return listeners;
  return {listener_config{"default", listen, listener_role::balance, 0}};
}

bool config::has_writer_listener() const {
  return std::ranges::any_of(listeners, [](const listener_config& l) { return l.role == listener_role::writer; });
}

std::vector<config_error> validate(const config& c) {
  std::vector<config_error> errors;
  auto add = [&](std::string key, std::string message, int line = 0) {
    errors.push_back({c.source, line, std::move(key), std::move(message)});
  };
  if (c.nodes.empty()) add("node", "no node is configured: add a [[node]] with an address (or --node HOST:PORT)");
  std::set<std::string> addresses;
  std::set<std::string> names;
  for (const auto& n : c.nodes) {
    if (n.address.port == 0) continue;  // already refused for its address
    if (!addresses.insert(n.address.to_string()).second)
      add("node.address", fmt::format("{} is configured twice", n.address.to_string()), n.line);
    if (!n.name.empty() && !names.insert(n.name).second)
      add("node.name", fmt::format("the name \"{}\" is given to two nodes", n.name), n.line);
  }
  // agent.listen given beside [[listener]] is refused where it is known: by the parser and the command line.
  std::set<std::string> listener_names;
  std::set<std::string> listener_addresses;
  for (const auto& l : c.listeners) {
    if (!listener_names.insert(l.name).second)
      add("listener.name", fmt::format("the name \"{}\" is given to two listeners", l.name), l.line);
    if (l.address.port != 0 && !listener_addresses.insert(l.address.to_string()).second)
      add("listener.address", fmt::format("{} is given to two listeners", l.address.to_string()), l.line);
  }
  if (c.has_writer_listener()) {
    const auto writer = std::ranges::find(c.listeners, listener_role::writer, &listener_config::role);
    if (!c.intents.shared)
      add("listener.role",
          "a writer listener needs [intents] shared = true: the agents agree on the writer through the cluster's "
          "galeratop schema",
          writer->line);
    if (!c.nodes.empty() && std::ranges::none_of(c.nodes, [](const node_config& n) { return n.writer_priority > 0; }))
      add("node.writer_priority",
          "a writer listener needs a node that may be the writer: give one a writer_priority above 0", writer->line);
  }
  if (!c.metrics.empty() && !parse_endpoint(c.metrics))
    add("agent.metrics", fmt::format("\"{}\" is not \"HOST:PORT\" (\"\" disables the exporter)", c.metrics));
  if (!c.control_tcp.empty() && !parse_endpoint(c.control_tcp))
    add("agent.control_tcp", fmt::format("\"{}\" is not \"HOST:PORT\" (\"\" disables TCP control)", c.control_tcp));
  if (!c.control_tcp.empty() && c.control_token_file.empty())
    add("agent.control_token_file", "TCP control needs a token: name the file that holds it");
  if (!c.control_tcp.empty() && c.control_tls) {
    // Secure by default: the token must not cross the network in clear unless the operator says so.
    if (c.control_tls_cert.empty())
      add("agent.control_tls_cert", "TCP control speaks TLS: name the agent's certificate (PEM), or set "
                                    "control_tls = false to serve plain TCP, the token in clear");
    if (c.control_tls_key.empty())
      add("agent.control_tls_key", "TCP control speaks TLS: name the file of the certificate's private key (PEM)");
  }
  if (!c.control_tls && (!c.control_tls_cert.empty() || !c.control_tls_key.empty()))
    add("agent.control_tls", "is false, yet control_tls_cert or control_tls_key is set: say which one is meant");
  if (c.metrics_tls_cert.empty() != c.metrics_tls_key.empty())
    add(c.metrics_tls_cert.empty() ? "agent.metrics_tls_cert" : "agent.metrics_tls_key",
        "HTTPS for /metrics needs both metrics_tls_cert and metrics_tls_key");
  if (c.metrics.empty() && (!c.metrics_tls_cert.empty() || !c.metrics_basic_auth_users.empty()))
    add(c.metrics_tls_cert.empty() ? "agent.metrics_basic_auth_users" : "agent.metrics_tls_cert",
        "applies to /metrics, which is disabled (agent.metrics = \"\")");
  if (c.control.empty() && c.control_tcp.empty() && !c.control_group.empty())
    add("agent.control_group", "applies to the control socket, which is disabled");
  if (c.state_dir.empty()) add("agent.state_dir", "must name a directory galeratopd can write");
  if (c.monitor.user.empty()) add("monitor.user", "must not be empty");
  if (c.monitor.password_file.empty()) add("monitor.password_file", "must name a file holding the monitor password");
  return errors;
}

}  // namespace galeratop
