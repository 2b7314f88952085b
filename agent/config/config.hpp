#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/duration.hpp"
#include "agent/config/endpoint.hpp"
#include "agent/config/model_settings.hpp"
#include "balancer/core/balancer_settings.hpp"
#include "balancer/core/health_tracker.hpp"

namespace galeratop {

/// One `[[node]]`.
struct node_config {
  std::string name;  ///< empty: the node's wsrep_node_name is shown once known
  endpoint address;
  std::uint32_t weight = 1;  ///< 0 = no new connections, keep existing
  /// Which node writer listeners prefer: the highest first, then the lowest address; 0 = never the writer.
  std::uint32_t writer_priority = 1;
  /// Send the client's address in a PROXY v2 header; nullopt: [balancer] proxy_protocol decides.
  std::optional<bool> proxy_protocol;
  int line = 0;              ///< where it is defined, for messages; 0 on the command line
};

/// `[monitor]`: how each node is checked.
struct monitor_config {
  std::string user = "monitor";
  std::string password_file = "/etc/galeratop/monitor.pass";  ///< the password is never taken from argv
  std::chrono::milliseconds interval{250};
  std::chrono::seconds timeout{1};  ///< connect, read and write timeout of a check (Connector/C counts seconds)
  int rise = 2;                     ///< good checks in a row before a node that was down is readmitted
  int fall = 3;                     ///< checks in a row without an answer before a suspect node is down
  std::chrono::milliseconds hung_time{5000};  ///< how long a node may be suspect before it is down

  /// How checks turn into health, as the health tracker takes them.
  health_rules health() const { return {rise, fall, hung_time}; }
};

/// `[intents]`: where operator intents (drain, maint, weight) are kept.
struct intents_config {
  /// In the cluster's galeratop.intents table, so that every agent of the group applies them;
  /// the state file keeps them too, and holds them alone while the cluster cannot be written.
  bool shared = true;
  std::string group = "default";  ///< agents with the same group share intents

  friend bool operator==(const intents_config&, const intents_config&) = default;
};

/// One `[[listener]]`: a client-facing address and what it does.
struct listener_config {
  std::string name;  ///< unique; shown in status and metrics
  endpoint address;
  listener_role role = listener_role::balance;
  int line = 0;  ///< where it is defined; 0 on the command line

  friend bool operator==(const listener_config& a, const listener_config& b) {
    return a.name == b.name && a.address == b.address && a.role == b.role;
  }
};

/// `[writer]`: how the writer of writer listeners is chosen and moved.
struct writer_config {
  /// A recovered node with a higher writer_priority takes the role back (through a clean switch);
  /// off by default: a failback is a second switch, and its own burst of errors.
  bool failback = false;
  /// How long a switch waits for the old writer's sessions to reach a safe point before it cuts
  /// them; new sessions wait as long for the new writer before they are refused. Twice the
  /// default close_patience: a busy pool's sessions reach their safe point only after that.
  std::chrono::milliseconds barrier{10000};

  friend bool operator==(const writer_config&, const writer_config&) = default;
};

/// A group name agents share intents under: 1 to 64 of A-Z a-z 0-9 . _ -
bool valid_intent_group(std::string_view group);
/// What valid_intent_group() asks for, in the words of a refusal.
inline constexpr std::string_view intent_group_rule = "expected 1 to 64 of the characters A-Z a-z 0-9 . _ -";

/// The whole configuration; every field has the documented default.
struct config {
  std::string source = "defaults";  ///< the file it came from, for messages
  endpoint listen{"127.0.0.1", 3306};  ///< the listener "default" (balance) when no [[listener]] is given
  std::vector<listener_config> listeners;  ///< [[listener]]; empty: one balance listener at `listen`
  std::string control = "/run/galeratop/control.sock";  ///< unix socket, mode 0600 ("" = none)
  std::string control_group;       ///< when set, the socket is mode 0660 and owned by this group
  std::string control_tcp;         ///< HOST:PORT of the TCP control endpoint; "" = none
  std::string control_token_file;  ///< the token TCP clients must send; required with control_tcp
  /// TCP control speaks TLS (certificate and key required); false serves plain TCP, the token in clear.
  bool control_tls = true;
  std::string control_tls_cert;  ///< PEM: the agent's certificate (and its chain), read at start and reload
  std::string control_tls_key;   ///< PEM: its private key, read at start and reload
  std::string metrics = "127.0.0.1:9490";
  std::string metrics_tls_cert;  ///< PEM: with metrics_tls_key, /metrics is served over HTTPS only
  std::string metrics_tls_key;   ///< PEM: the private key of metrics_tls_cert
  /// htpasswd-style file of USER:BCRYPT-HASH lines; when set, /metrics needs HTTP basic auth.
  std::string metrics_basic_auth_users;
  std::chrono::milliseconds shutdown_grace{30000};  ///< how long sessions may finish after SIGTERM
  std::string state_dir = "/var/lib/galeratop";     ///< what must survive a restart (bootstrap memory)
  std::string user;  ///< after binding, run as this user (and its group); "" = stay who started it
  monitor_config monitor;
  balancer_settings balancer;
  model_settings cluster;
  intents_config intents;
  writer_config writer;
  std::vector<node_config> nodes;

  /// The listeners galeratopd opens: the [[listener]] entries, else "default" (balance) at `listen`.
  std::vector<listener_config> effective_listeners() const;
  /// Whether some listener is a writer listener.
  bool has_writer_listener() const;
};

/// A refusal that names the file, the line and the key.
struct config_error {
  std::string file;
  int line = 0;  ///< 0 when it is not about one line
  std::string key;
  std::string message;

  /// "FILE:LINE: KEY: MESSAGE".
  std::string to_string() const;
};

/// A configuration, or every reason it is refused.
struct config_result {
  std::optional<config> value;
  std::vector<config_error> errors;
};

/// Parses TOML text (pure); `source` names the file in errors.
config_result parse_config(std::string_view text, std::string_view source);

/// Reads and parses a file.
config_result load_config_file(const std::string& path);

/// Checks what no single key can: at least one node, no duplicate address or name.
std::vector<config_error> validate(const config& c);

}  // namespace galeratop
