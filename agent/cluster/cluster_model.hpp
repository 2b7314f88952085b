#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/cluster/advisory_tracker.hpp"
#include "agent/cluster/snapshot.hpp"
#include "agent/config/model_settings.hpp"

namespace galeratop {

/// Turns the latest per-node observations into the cluster as the nodes see
/// it, with advisories that appear and clear on their own. Pure: `now` and the
/// node snapshots are its only inputs; it keeps the history hysteresis needs.
class cluster_model {
 public:
  explicit cluster_model(model_settings s = {});

  /// One evaluation.
  struct result {
    cluster_view cluster;
    std::vector<advisory> advisories;  ///< in force after hysteresis, most severe first
    advisory_tracker::changes changes;  ///< raised and cleared by this evaluation, for the log
  };

  /// Evaluates `nodes` (every configured node). `no_node_reason` is the routing
  /// table's explanation, used when no node is eligible; `candidate` is named
  /// in cluster_down; `writer` is the writer listeners' writer, when the agent has any.
  result update(std::span<const node_snapshot> nodes, const std::string& no_node_reason,
                const std::optional<bootstrap_candidate>& candidate, mono_clock::time_point now,
                const std::optional<writer_snapshot>& writer = std::nullopt);

  /// Replaces the thresholds (reload).
  void set_settings(const model_settings& s) { settings_ = s; }

  /// The advisory ids, with severity and what each means (for galeratopd(8) and tests).
  static const std::vector<std::pair<std::string_view, severity>>& advisory_ids();

 private:
  struct fc_sample {
    mono_clock::time_point at;
    double paused_ns = 0;
    double sent = 0;
  };

  cluster_view derive_view(std::span<const node_snapshot> nodes) const;
  void conditions(std::span<const node_snapshot> nodes, const cluster_view& view, const std::string& no_node_reason,
                  const std::optional<bootstrap_candidate>& candidate, mono_clock::time_point now,
                  std::vector<advisory>& out);
  void flow_control(std::span<const node_snapshot> nodes, std::vector<advisory>& out);
  void record_flow_control(std::span<const node_snapshot> nodes, mono_clock::time_point now);
  /// The advisories about the writer: agents that disagree, and conflicts on the writer.
  void writer_conditions(std::span<const node_snapshot> nodes, const writer_snapshot& writer,
                         mono_clock::time_point now, std::vector<advisory>& out);

  /// A node's certification failures plus brute-force aborts, as last seen, and when they last grew.
  struct conflict_count {
    std::optional<double> total;  ///< none before the node's first status
    std::optional<mono_clock::time_point> grew_at;
  };

  model_settings settings_;
  advisory_tracker tracker_;
  std::map<std::string, std::deque<fc_sample>> fc_;              // by address, oldest first, within the window
  std::map<std::string, mono_clock::time_point> desynced_since_;  // by address, while Donor/Desynced
  std::map<std::string, conflict_count> conflicts_;               // by address
};

}  // namespace galeratop
