#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/cluster/event.hpp"
#include "balancer/core/eligibility.hpp"
#include "balancer/core/galera_state.hpp"
#include "balancer/core/node_record.hpp"
#include "balancer/core/observation.hpp"
#include "balancer/core/poll_histogram.hpp"
#include "balancer/core/query_window.hpp"
#include "balancer/core/wsrep_status.hpp"

namespace galeratop {

/// One configured node: health, operator intent, traffic and its latest check.
struct node_snapshot {
  std::string name;     ///< configured name, else wsrep_node_name, else the address
  std::string address;  ///< HOST:PORT as configured
  std::string resolved;  ///< IP:PORT it resolved to, to match wsrep_incoming_addresses
  galera_state state = galera_state::unknown;
  bool up = false;        ///< health allows connections
  bool suspect = false;   ///< its checks stopped getting an answer in time: no new connections, open ones kept
  std::uint64_t suspicions_total = 0;  ///< how many times it became suspect
  bool eligible = false;  ///< takes new connections now (health, admin, weight, donor policy)
  exclusion excluded = exclusion::none;  ///< why it does not, when it does not
  admin_state admin = admin_state::ready;
  std::chrono::system_clock::time_point admin_since{};  ///< when the operator last changed `admin`; epoch if never
  std::uint64_t intent_version = 0;  ///< the version of the node's row in galeratop.intents; 0 = none
  bool intent_pending = false;       ///< its intent changed here and is not in the cluster yet
  /// Who last changed its intent and when, from the newest operator event about it still in the
  /// event log; empty and epoch when there is none (set before this agent started, or long ago).
  std::string intent_by;
  std::chrono::system_clock::time_point intent_changed{};
  std::uint32_t weight = 1;
  std::uint32_t writer_priority = 1;  ///< writer listeners prefer the highest; 0 = never the writer
  bool proxy_protocol = false;        ///< its sessions start with a PROXY v2 header naming the client
  bool writer = false;  ///< writer listeners send their sessions to it now
  std::string reason;  ///< why it is in its state, from the last change

  std::uint32_t connections = 0;  ///< client sessions held to the node now
  std::uint64_t connections_total = 0;
  std::uint64_t connect_errors = 0;
  std::uint64_t bytes_in = 0;   ///< client to node
  std::uint64_t bytes_out = 0;  ///< node to client

  // What the relay saw of the node's sessions; the opaque ones are in no query figure.
  std::uint64_t queries_total = 0;  ///< commands whose response ended (and those that expect none)
  query_histogram query_latency;    ///< from each command to the end of its response
  double queries_per_second = 0;    ///< over the last ~5 s (query_window); 0 at the first publish
  std::optional<double> query_p99_seconds;  ///< over the last ~5 s (query_window); empty when no query ended in them
  std::optional<double> query_p50_seconds;  ///< the median, likewise
  std::int64_t in_transaction = 0;          ///< sessions inside a transaction now
  std::int64_t opaque = 0;                  ///< sessions the relay cannot follow now (TLS, compression)
  std::uint64_t opaque_total = 0;           ///< sessions that became opaque
  std::uint64_t safe_closes_total = 0;   ///< sessions closed at a safe point (drain, maint, removal)
  std::uint64_t sessions_cut_total = 0;  ///< sessions closed in a query or transaction (maint deadline, node lost)

  bool monitor_up = false;  ///< the last check reached the node and read its status (mysql_up)
  std::string monitor_error;  ///< the last check's error, empty when it succeeded
  mono_clock::time_point observed_at{};  ///< when the last check ended; epoch before the first
  std::chrono::microseconds check_latency{0};  ///< how long the last check's status query took
  std::optional<wsrep_status> status;    ///< the last check's status; empty when it failed
  std::string node_name;     ///< @@wsrep_node_name
  std::string cluster_name;  ///< @@wsrep_cluster_name
  poll_histogram poll;
  std::uint64_t monitor_errors = 0;  ///< failed checks since the node was added
  std::vector<monitor_errors::entry> recent_monitor_errors;  ///< the last few, oldest first
};

/// A node's record as the snapshot shows it (its counters read as they are now);
/// `intents_known`: the routing table's, which says why a node is not eligible.
node_snapshot snapshot_of(const node_record& r, bool intents_known = true);

/// Nodes that see the same cluster view: same state uuid, conf_id and status.
struct partition {
  std::string uuid;
  std::uint64_t conf_id = 0;
  std::string status;  ///< "Primary", "non-Primary", ...
  std::uint32_t size = 0;  ///< wsrep_cluster_size as its nodes report it
  std::vector<std::string> members;  ///< wsrep_incoming_addresses: every member's client address
  std::vector<std::string> nodes;    ///< names of the configured nodes in it
};

/// The cluster as the configured nodes see it.
struct cluster_view {
  std::string name;    ///< wsrep_cluster_name; empty when no node is reachable
  std::string uuid;    ///< the reference partition's state uuid
  std::string status;  ///< "Primary", "non-Primary", or "down" when no node is reachable
  std::uint32_t size = 0;
  std::uint64_t conf_id = 0;
  std::vector<partition> partitions;  ///< the reference partition first
};

/// How urgent an advisory is.
enum class severity { info, warning, critical };

/// "info", "warning" or "critical".
std::string_view to_string(severity s);

/// A finding about the cluster a DBA should act on; ids are stable (galeratopd(8)).
struct advisory {
  std::string id;
  galeratop::severity severity = severity::warning;
  std::vector<std::string> nodes;  ///< the nodes concerned; empty when cluster-wide
  std::string message;             ///< one line

  friend bool operator==(const advisory&, const advisory&) = default;
};

/// The node to start a new cluster from when every node is down.
struct bootstrap_candidate {
  std::string node;
  std::string address;
  std::int64_t seqno = -1;  ///< the highest wsrep_last_committed seen on it
  std::string uuid;         ///< of the last Primary component
  std::string evidence;     ///< what the choice rests on, in words
  std::string command;      ///< what to run on it
};

/// What the listener has done.
struct frontend_snapshot {
  std::string listen;  ///< HOST:PORT clients connect to
  std::chrono::system_clock::time_point started_at{};  ///< when galeratopd started
  std::uint64_t current = 0;
  std::uint64_t accepted_total = 0;
  std::uint64_t rejected_total = 0;    ///< sent an error instead of a greeting, for either reason below
  std::uint64_t rejected_no_node = 0;  ///< ERR 1047: no node could take them
  std::uint64_t rejected_limit = 0;    ///< ERR 1040: max_connections reached or no descriptor left
  std::uint64_t max_connections = 0;   ///< sessions held at once before clients get ERR 1040
  std::uint64_t waiting = 0;           ///< clients held now for want of a node ([balancer] hold)
  std::uint64_t waits_served = 0;      ///< holds that ended with a node
  std::uint64_t waits_refused = 0;     ///< holds that ended in ERR 1047: at the hold's end, or at once past hold_limit
  std::uint64_t waits_abandoned = 0;   ///< holds the client ended by closing its side
  double longest_wait_seconds = 0;     ///< the longest hold that has ended since start
  double hold_seconds = 0;             ///< [balancer] hold
  std::uint64_t hold_limit = 0;        ///< [balancer] hold_limit
  std::string io_backend;      ///< "io_uring" or "epoll": what relays established sessions
  std::string io_backend_why;  ///< why that one; empty when io_uring runs as wanted
};

/// One client-facing listener.
struct listener_snapshot {
  std::string name;
  std::string role;     ///< "balance" or "writer"
  std::string address;  ///< HOST:PORT it listens on
  std::uint64_t accepted_total = 0;
  /// Sessions it holds now, by node name, in the nodes' order; nodes with none are left out.
  std::vector<std::pair<std::string, std::uint32_t>> connections;
};

/// Another agent of the group, and the writer it says it follows (galeratop.writer_agents).
struct writer_agent_snapshot {
  std::string agent;
  std::string node;  ///< the writer's address; empty: it routes no writer traffic
  std::uint64_t epoch = 0;
  double age_seconds = 0;  ///< since it last said so
  bool agrees = true;      ///< it follows the row this agent read
};

/// The writer of writer listeners (present only when the agent has one).
struct writer_snapshot {
  std::string node;     ///< the name of the node writer listeners send to now; empty: none
  std::string address;  ///< its address
  std::string row_node;  ///< the address galeratop.writer names; empty: no row (or not read yet)
  std::uint64_t epoch = 0;  ///< of that row; 0 = none
  std::string changed_by;   ///< the agent that wrote it
  std::string reason;       ///< why it changed
  double row_age_seconds = 0;
  bool readable = false;  ///< the latest read of galeratop.writer succeeded
  std::string error;      ///< why it did not
  std::string why;        ///< why there is no writer now, or why it last changed
  bool settled = true;    ///< no writer-listener session is left on another node
  std::uint64_t waiting = 0;   ///< clients waiting for a writer
  std::uint64_t switches_total = 0;  ///< times this agent moved writer listeners from one node to another
  bool failback = false;   ///< [writer] failback
  std::vector<writer_agent_snapshot> agents;  ///< the other agents of the group heard from lately
  std::uint64_t agents_disagreeing = 0;  ///< of them, those that follow another writer or epoch
};

/// How operator intents are shared through the cluster (galeratop.intents).
struct intents_sync_snapshot {
  bool shared = false;   ///< [intents] shared
  std::string group;     ///< [intents] group
  bool available = false;  ///< the last read of the table succeeded
  std::string error;     ///< why it did not; empty when it did
  std::string from;      ///< the node it was last read from, HOST:PORT
  std::size_t pending = 0;  ///< intents changed here that the cluster does not have yet
};

/// Everything galeratopd knows at one instant. Immutable once published: the
/// exporter's threads and the control endpoint read it without locks.
struct snapshot {
  std::string version;
  std::chrono::system_clock::time_point taken_at{};
  cluster_view cluster;
  std::vector<node_snapshot> nodes;
  std::vector<advisory> advisories;
  std::optional<bootstrap_candidate> bootstrap;
  frontend_snapshot frontend;
  std::vector<listener_snapshot> listeners;
  std::optional<writer_snapshot> writer;  ///< when the agent has a writer listener
  intents_sync_snapshot intents;
  std::vector<event> events;  ///< the most recent ones (recent_events), oldest first
};

/// How many of the latest events a snapshot carries: the screen's pane and a follower's catch-up
/// between two pushes. `galeratop events` asks for the whole log.
inline constexpr std::size_t recent_events = 50;

}  // namespace galeratop
