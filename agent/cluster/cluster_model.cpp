#include "agent/cluster/cluster_model.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <tuple>

namespace galeratop {
namespace {
using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr std::string_view no_uuid = "00000000-0000-0000-0000-000000000000";  // before a node has joined anything

struct advisory_kind {
  std::string_view id;
  severity level;
  milliseconds raise_after;  // how long the condition must hold: long enough to ride out a rolling restart's blips
};
// The table of advisory ids (galeratopd(8) lists each with its meaning).
constexpr advisory_kind kinds[] = {
    {"cluster_down", severity::critical, 0ms},
    {"no_eligible_node", severity::critical, 1000ms},  // nodes rise for a moment after galeratopd starts
    {"partitioned", severity::critical, 2000ms},  // nodes see a membership change a poll or two apart
    {"node_not_in_cluster", severity::critical, 2000ms},
    {"two_node_no_arbitrator", severity::warning, 10000ms},  // a 3-node cluster is 2 for a moment in a restart
    {"duplicate_node_name", severity::warning, 0ms},
    {"flow_control", severity::warning, 0ms},  // already averaged over its window
    {"donor_serving", severity::warning, 1000ms},
    {"desync_long", severity::warning, 0ms},  // already a duration
    {"member_not_configured", severity::info, 10000ms},  // a joiner shows up before it is Synced
    {"writer_disagreement", severity::critical, 0ms},  // agents_disagreeing already waits for a switch to settle
    {"writes_off_writer", severity::warning, 0ms},     // already a window
};
// How recently the writer's certification conflicts must have grown for writes_off_writer.
constexpr milliseconds conflict_window = 10000ms;

const advisory_kind& kind(std::string_view id) {
  for (const auto& k : kinds)
    if (k.id == id) return k;
  return kinds[0];  // unreachable: every id below is in the table
}

milliseconds raise_after(std::string_view id) { return kind(id).raise_after; }

advisory make(std::string_view id, std::vector<std::string> nodes, std::string message) {
  return advisory{std::string(id), kind(id).level, std::move(nodes), std::move(message)};
}

std::vector<std::string> split_addresses(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

double number(const wsrep_status& st, std::string_view key) {
  auto it = st.raw.find(key);
  double v = 0;
  if (it != st.raw.end()) std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  return v;
}

std::string describe(const partition& p) {
  return fmt::format("[{}] {} conf_id {} size {}", fmt::join(p.nodes, " "), p.status,
                     p.status == "Primary" ? std::to_string(p.conf_id) : std::string("-"), p.size);
}

std::string format_seconds(milliseconds d) { return fmt::format("{}s", d.count() / 1000); }
}  // namespace

std::string_view to_string(severity s) {
  switch (s) {
    case severity::info: return "info";
    case severity::warning: return "warning";
    case severity::critical: return "critical";
  }
  return "warning";
}

cluster_model::cluster_model(model_settings s) : settings_(s), tracker_(raise_after, 5000ms) {}

const std::vector<std::pair<std::string_view, severity>>& cluster_model::advisory_ids() {
  static const auto ids = [] {
    std::vector<std::pair<std::string_view, severity>> v;
    for (const auto& k : kinds) v.emplace_back(k.id, k.level);
    return v;
  }();
  return ids;
}

cluster_view cluster_model::derive_view(std::span<const node_snapshot> nodes) const {
  std::vector<partition> groups;
  std::vector<std::string> group_cluster_name;
  for (const node_snapshot& n : nodes) {
    if (!n.status || n.status->cluster_state_uuid.empty() || n.status->cluster_state_uuid == no_uuid) continue;
    const wsrep_status& st = *n.status;
    auto g = std::ranges::find_if(groups, [&](const partition& p) {
      return p.uuid == st.cluster_state_uuid && p.conf_id == st.cluster_conf_id && p.status == st.cluster_status;
    });
    if (g == groups.end()) {
      groups.push_back({st.cluster_state_uuid, st.cluster_conf_id, st.cluster_status, 0, {}, {}});
      group_cluster_name.push_back(n.cluster_name);
      g = std::prev(groups.end());
    }
    g->size = std::max(g->size, st.cluster_size);
    if (g->members.empty()) g->members = split_addresses(st.incoming_addresses);
    g->nodes.push_back(n.name);
  }
  cluster_view view;
  if (groups.empty()) {
    view.status = "down";
    return view;
  }
  // The reference is the view most nodes would call "the cluster": a Primary one, the most configured nodes in it.
  auto rank = [](const partition& p) { return std::tuple(p.status == "Primary", p.nodes.size(), p.size, p.conf_id); };
  const auto ref = std::ranges::max_element(groups, [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  view.name = group_cluster_name[static_cast<std::size_t>(ref - groups.begin())];
  view.uuid = ref->uuid;
  view.status = ref->status;
  view.size = ref->size;
  view.conf_id = ref->conf_id;
  view.partitions.push_back(*ref);
  for (auto g = groups.begin(); g != groups.end(); ++g)
    if (g != ref && g->uuid == ref->uuid) view.partitions.push_back(*g);  // another uuid is another cluster
  return view;
}

void cluster_model::record_flow_control(std::span<const node_snapshot> nodes, mono_clock::time_point now) {
  for (const node_snapshot& n : nodes) {
    auto& samples = fc_[n.address];
    if (!n.status) {
      samples.clear();  // a restarted node's counters start again from zero
      continue;
    }
    if (samples.empty() || samples.back().at != n.observed_at)
      samples.push_back({n.observed_at, number(*n.status, "wsrep_flow_control_paused_ns"),
                         number(*n.status, "wsrep_flow_control_sent")});
    while (samples.size() > 2 && now - samples[1].at >= settings_.flow_control_window) samples.pop_front();
  }
  // Forget removed nodes.
  auto gone = [&](const auto& kv) {
    return std::ranges::none_of(nodes, [&](const node_snapshot& n) { return n.address == kv.first; });
  };
  std::erase_if(fc_, gone);
  std::erase_if(desynced_since_, gone);
}

void cluster_model::flow_control(std::span<const node_snapshot> nodes, std::vector<advisory>& out) {
  std::vector<std::string> paused, senders;
  double worst = 0;
  for (const node_snapshot& n : nodes) {
    const auto it = fc_.find(n.address);
    if (it == fc_.end() || it->second.size() < 2) continue;
    const fc_sample& first = it->second.front();
    const fc_sample& last = it->second.back();
    const double elapsed_ns = std::chrono::duration<double, std::nano>(last.at - first.at).count();
    if (elapsed_ns <= 0 || last.paused_ns < first.paused_ns) continue;
    const double fraction = (last.paused_ns - first.paused_ns) / elapsed_ns;
    if (fraction > settings_.flow_control_paused) {
      paused.push_back(n.name);
      worst = std::max(worst, fraction);
    }
    if (last.sent > first.sent) senders.push_back(n.name);
  }
  if (paused.empty()) return;
  std::string message = fmt::format("replication paused by flow control up to {:.0f}% of the last {} on {}",
                                    worst * 100, format_seconds(settings_.flow_control_window), fmt::join(paused, ", "));
  if (senders.empty())
    message += "; no configured node sent flow control (a member galeratopd does not check may be the slow one)";
  else
    message += fmt::format("; sent by {}: it cannot apply writesets fast enough (check its wsrep_local_recv_queue, "
                           "disk and wsrep_slave_threads)",
                           fmt::join(senders, ", "));
  out.push_back(make("flow_control", senders.empty() ? paused : senders, std::move(message)));
}

void cluster_model::conditions(std::span<const node_snapshot> nodes, const cluster_view& view,
                               const std::string& no_node_reason, const std::optional<bootstrap_candidate>& candidate,
                               mono_clock::time_point now, std::vector<advisory>& out) {
  if (nodes.empty()) return;
  if (std::ranges::all_of(nodes, [](const node_snapshot& n) { return n.state == galera_state::down; }))
    out.push_back(make("cluster_down", {},
                       candidate ? fmt::format("every configured node ({}) is down; bootstrap {} (seqno {}): {}",
                                               nodes.size(), candidate->node, candidate->seqno, candidate->command)
                                 : fmt::format("every configured node ({}) is down and galeratopd never saw a Primary "
                                               "component: run 'mariadbd --wsrep-recover' on each node and bootstrap "
                                               "the one with the highest seqno",
                                               nodes.size())));
  // Before every node has been checked once, "none eligible" is just the start.
  const bool all_checked = std::ranges::none_of(nodes, [](const node_snapshot& n) { return n.state == galera_state::unknown; });
  if (all_checked && std::ranges::none_of(nodes, [](const node_snapshot& n) { return n.eligible; }))
    out.push_back(make("no_eligible_node", {}, no_node_reason));

  const bool split = view.partitions.size() > 1 ||
                     std::ranges::any_of(view.partitions, [](const partition& p) { return p.status != "Primary"; });
  if (split) {
    std::vector<std::string> outside;
    for (std::size_t i = view.status == "Primary" ? 1 : 0; i < view.partitions.size(); ++i)
      outside.insert(outside.end(), view.partitions[i].nodes.begin(), view.partitions[i].nodes.end());
    std::vector<std::string> parts;
    for (const partition& p : view.partitions) parts.push_back(describe(p));
    out.push_back(make("partitioned", std::move(outside),
                       fmt::format("the cluster is split into {} views: {}; clients of a non-Primary node get ERROR "
                                   "1047",
                                   view.partitions.size(), fmt::join(parts, "; "))));
  }

  if (!view.partitions.empty() && view.status == "Primary" && view.size == 2)
    out.push_back(make("two_node_no_arbitrator", view.partitions.front().nodes,
                       "the Primary component has 2 members and no arbitrator: if either node crashes the other loses "
                       "quorum and stops serving; add garbd (galera-arbitrator-4) or a third node"));

  std::map<std::string, std::vector<const node_snapshot*>> by_name;
  for (const node_snapshot& n : nodes)
    if (n.status && !n.node_name.empty()) by_name[n.node_name].push_back(&n);
  for (const auto& [name, same] : by_name) {
    if (same.size() < 2) continue;
    std::vector<std::string> addresses;
    for (const node_snapshot* n : same) addresses.push_back(n->address);
    out.push_back(make("duplicate_node_name", addresses,
                       fmt::format("{} all report wsrep_node_name '{}': give each node its own name (donor selection, "
                                   "logs and monitoring tell nodes apart by it)",
                                   fmt::join(addresses, ", "), name)));
  }

  for (const node_snapshot& n : nodes) {
    if (!n.status || view.uuid.empty() || n.status->cluster_state_uuid.empty() ||
        n.status->cluster_state_uuid == no_uuid)
      continue;
    const bool other_uuid = n.status->cluster_state_uuid != view.uuid;
    const bool other_name = !n.cluster_name.empty() && !view.name.empty() && n.cluster_name != view.name;
    if (!other_uuid && !other_name) continue;
    out.push_back(make("node_not_in_cluster", {n.name},
                       fmt::format("{} belongs to cluster '{}' ({}), not to '{}' ({}) like the other nodes: clients "
                                   "sent to it see other data; fix its configuration or remove it",
                                   n.name, n.cluster_name, n.status->cluster_state_uuid, view.name, view.uuid)));
  }

  if (!view.partitions.empty() && view.status == "Primary") {
    std::vector<std::string> unknown;
    for (const std::string& m : view.partitions.front().members) {
      if (m == "AUTO") continue;
      const bool configured = std::ranges::any_of(
          nodes, [&](const node_snapshot& n) { return n.address == m || (!n.resolved.empty() && n.resolved == m); });
      if (!configured) unknown.push_back(m);
    }
    if (!unknown.empty())
      out.push_back(make("member_not_configured", unknown,
                         fmt::format("the cluster has member(s) {} that galeratopd does not balance to; add them as "
                                     "[[node]] if they should take clients",
                                     fmt::join(unknown, ", "))));
  }

  flow_control(nodes, out);

  for (const node_snapshot& n : nodes) {
    if (n.state == galera_state::donor && n.eligible)
      out.push_back(make("donor_serving", {n.name},
                         fmt::format("{} is Donor/Desynced but takes clients: it is the only node that can; reads "
                                     "may be stale while it is desynced",
                                     n.name)));
    if (n.state != galera_state::donor) {
      desynced_since_.erase(n.address);
      continue;
    }
    const auto since = desynced_since_.try_emplace(n.address, now).first->second;
    if (now - since >= settings_.desync_long)
      out.push_back(make("desync_long", {n.name},
                         fmt::format("{} has been Donor/Desynced for {}: it falls behind the cluster; if no state "
                                     "transfer or backup is running, SET GLOBAL wsrep_desync=OFF",
                                     n.name, format_seconds(std::chrono::duration_cast<milliseconds>(now - since)))));
  }
}

void cluster_model::writer_conditions(std::span<const node_snapshot> nodes, const writer_snapshot& writer,
                                      mono_clock::time_point now, std::vector<advisory>& out) {
  if (writer.agents_disagreeing > 0) {
    std::vector<std::string> others;
    for (const writer_agent_snapshot& a : writer.agents)
      if (!a.agrees)
        others.push_back(fmt::format("{} follows {} at epoch {}", a.agent, a.node.empty() ? "no writer" : a.node,
                                     a.epoch));
    out.push_back(make("writer_disagreement", {},
                       fmt::format("{} agent(s) of the group follow another writer than galeratop.writer ({} at "
                                   "epoch {}): {}; their writes certify against this one's (ERROR 1213)",
                                   writer.agents_disagreeing, writer.row_node.empty() ? "none" : writer.row_node,
                                   writer.epoch, fmt::join(others, "; "))));
  }
  // Certification failures and brute-force aborts on the writer mean its transactions met writes
  // made on another node: another agent's, a balance listener's or a direct client's.
  for (const node_snapshot& n : nodes) {
    if (!n.status) continue;
    conflict_count& c = conflicts_[n.address];
    const double total = number(*n.status, "wsrep_local_cert_failures") + number(*n.status, "wsrep_local_bf_aborts");
    if (c.total && total > *c.total) c.grew_at = now;
    c.total = total;
    if (n.writer && c.grew_at && now - *c.grew_at < conflict_window)
      out.push_back(make("writes_off_writer", {n.name},
                         fmt::format("the writer {} has had certification conflicts in the last {}: writes reach "
                                     "another node too (another agent, a balance listener or a direct client), and "
                                     "some fail with ERROR 1213",
                                     n.name, format_seconds(conflict_window))));
  }
}

cluster_model::result cluster_model::update(std::span<const node_snapshot> nodes, const std::string& no_node_reason,
                                            const std::optional<bootstrap_candidate>& candidate,
                                            mono_clock::time_point now, const std::optional<writer_snapshot>& writer) {
  result r;
  r.cluster = derive_view(nodes);
  record_flow_control(nodes, now);
  std::vector<advisory> holding;
  conditions(nodes, r.cluster, no_node_reason, candidate, now, holding);
  if (writer) writer_conditions(nodes, *writer, now, holding);
  r.changes = tracker_.update(holding, now);
  r.advisories = tracker_.active();
  return r;
}

}  // namespace galeratop
