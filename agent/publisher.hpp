#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "agent/cluster/bootstrap_memory.hpp"
#include "agent/cluster/cluster_model.hpp"
#include "agent/cluster/event_log.hpp"
#include "agent/cluster/snapshot.hpp"
#include "agent/cluster/snapshot_slot.hpp"
#include "balancer/balancer.hpp"

namespace galeratop {

/// What the agent's collaborators add to a snapshot besides the balancer's own facts.
struct publish_inputs {
  std::string listen;                     ///< the listeners in a few words (frontend_snapshot::listen)
  intents_sync_snapshot intents;          ///< the shared intents: readable, from where, pending changes
  std::optional<writer_snapshot> writer;  ///< when the agent has a writer listener
};

/// Builds galeratopd's snapshot and publishes it in the slot the metrics thread and the control
/// endpoint read (DESIGN section 3). Publishing changes nothing outside what it derives from one
/// snapshot to the next: the cluster model's advisories, the events log, the bootstrap memory. It
/// steers nothing and writes no file; the agent does that around it. Runs on the io thread.
class publisher {
 public:
  /// `settings`: the cluster model's (advisories, bootstrap memory), as configured.
  explicit publisher(const model_settings& settings) : model_(settings) {}

  /// Takes new cluster model settings (reload).
  void set_settings(const model_settings& settings) { model_.set_settings(settings); }
  /// Builds the snapshot of now from the balancer and `in`, adds what changed since the last one
  /// to the events log, and publishes it. True when the bootstrap memory changed in a way worth
  /// saving at once (a node's state or seqno moved), not only aged.
  bool publish(const balancer& b, const publish_inputs& in);
  /// Adds an event now: an operator's request (`who` asked), a reload.
  void tell(event_kind kind, std::string node, std::string message, std::string who = {});

  /// The slot the snapshots are published in.
  const snapshot_slot& slot() const { return published_; }
  /// The snapshot published last; null before the first.
  std::shared_ptr<const snapshot> current() const { return published_.load(); }
  /// What happened, oldest first.
  const event_log& events() const { return events_; }
  /// The last seqnos seen of every node (restored at start; saved by the agent).
  bootstrap_memory& memory() { return memory_; }

 private:
  cluster_model model_;
  bootstrap_memory memory_;
  event_log events_;             // what happened, fed by publish() and by the operators' requests
  rejection_bursts rejections_;  // refused clients, told a burst at a time
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
  snapshot_slot published_;
};

}  // namespace galeratop
