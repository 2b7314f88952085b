#include "agent/cluster/bootstrap_memory.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

#include "agent/config/json_integer.hpp"

namespace galeratop {
namespace {
using json = nlohmann::json;
constexpr int format_version = 1;

/// Beyond it a unix time no longer formats as a date (and is no time a node was seen at).
constexpr std::int64_t last_second_of_9999 = 253402300799;

std::string utc(std::int64_t unix_seconds) {
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(static_cast<std::time_t>(unix_seconds)));
}
}  // namespace

bool bootstrap_memory::note(std::span<const node_snapshot> nodes, std::chrono::system_clock::time_point now) {
  bool significant = false;
  const auto seen_at = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  for (const node_snapshot& n : nodes) {
    // Only a Primary component commits: a non-Primary node's seqno says nothing about who is ahead.
    if (!n.status || n.status->cluster_status != "Primary" || n.status->last_committed < 0) continue;
    const wsrep_status& st = *n.status;
    record next{n.name, st.cluster_state_uuid, st.last_committed, st.cluster_conf_id, seen_at};
    auto it = records_.find(n.address);
    if (it == records_.end()) {
      records_.emplace(n.address, next);
      significant = dirty_ = true;
      continue;
    }
    record& r = it->second;
    if (r.uuid != next.uuid || r.conf_id != next.conf_id || r.name != next.name) significant = true;
    if (r.seqno != next.seqno || significant) dirty_ = true;
    r = next;
  }
  return significant;
}

std::optional<bootstrap_candidate> bootstrap_memory::candidate(std::span<const node_snapshot> nodes) const {
  if (nodes.empty() || !std::ranges::all_of(nodes, [](const node_snapshot& n) { return n.state == galera_state::down; }))
    return std::nullopt;
  // The last Primary component is the one seen most recently; only its members' seqnos compare.
  const record* latest = nullptr;
  for (const node_snapshot& n : nodes) {
    auto it = records_.find(n.address);
    if (it == records_.end()) continue;
    const record& r = it->second;
    if (!latest || std::tie(r.seen_at, r.conf_id) > std::tie(latest->seen_at, latest->conf_id)) latest = &r;
  }
  if (!latest) return std::nullopt;
  const node_snapshot* best = nullptr;
  const record* best_record = nullptr;
  for (const node_snapshot& n : nodes) {
    auto it = records_.find(n.address);
    if (it == records_.end() || it->second.uuid != latest->uuid) continue;
    const record& r = it->second;
    // Equal seqnos: the node that stayed Primary longest (highest conf_id, then latest) left last.
    if (!best_record ||
        std::tie(r.seqno, r.conf_id, r.seen_at) > std::tie(best_record->seqno, best_record->conf_id, best_record->seen_at)) {
      best = &n;
      best_record = &r;
    }
  }
  std::string others;
  for (const node_snapshot& n : nodes) {
    if (&n == best) continue;
    auto it = records_.find(n.address);
    std::string what = it == records_.end()          ? "never seen in a Primary component"
                       : it->second.uuid != latest->uuid ? "last seen in another cluster history"
                                                          : fmt::format("seqno {} (conf_id {}, {})", it->second.seqno,
                                                                        it->second.conf_id, utc(it->second.seen_at));
    others += fmt::format("; {}: {}", n.name, what);
  }
  bootstrap_candidate c;
  c.node = best->name;
  c.address = best->address;
  c.seqno = best_record->seqno;
  c.uuid = best_record->uuid;
  c.evidence = fmt::format("every node is down; {} had the highest seqno of the last Primary component {}: {} "
                           "(conf_id {}, {}){}",
                           best->name, best_record->uuid, best_record->seqno, best_record->conf_id,
                           utc(best_record->seen_at), others);
  c.command = fmt::format(
      "on {}: check with 'mariadbd --wsrep-recover' that no node has a higher seqno, then run 'galera_new_cluster' "
      "(set safe_to_bootstrap: 1 in grastate.dat if it refuses); then start the other nodes normally",
      best->name);
  return c;
}

std::string bootstrap_memory::serialize() {
  json nodes = json::object();
  for (const auto& [address, r] : records_)
    nodes[address] = {{"name", r.name}, {"uuid", r.uuid}, {"seqno", r.seqno}, {"conf_id", r.conf_id},
                      {"seen_at", r.seen_at}};
  dirty_ = false;
  return json{{"version", format_version}, {"nodes", nodes}}.dump(2) + "\n";
}

bool bootstrap_memory::restore(std::string_view text, std::string& error) {
  try {
    const json j = json::parse(text);
    if (!j.at("version").is_number_integer() || j.at("version") != format_version) {
      error = fmt::format("unknown format version {}", j.at("version").dump());
      return false;
    }
    std::map<std::string, record, std::less<>> loaded;
    for (const auto& [address, r] : j.at("nodes").items())
      loaded[address] = record{r.at("name").get<std::string>(), r.at("uuid").get<std::string>(),
                               integer_member<std::int64_t>(r, "seqno"), integer_member<std::uint64_t>(r, "conf_id"),
                               integer_member<std::int64_t>(r, "seen_at", 0, last_second_of_9999)};
    records_ = std::move(loaded);
    dirty_ = false;
    return true;
  } catch (const std::exception& e) {  // json::exception, or std::out_of_range from integer_member
    error = e.what();
    return false;
  }
}

}  // namespace galeratop
