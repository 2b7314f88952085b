#pragma once

#include <atomic>
#include <memory>

#include "snapshot.hpp"

namespace galeratop {

/// The one cross-thread hand-off of state (DESIGN rule 2): the io thread
/// publishes a fresh immutable snapshot, and readers on other threads (the
/// exporter's HTTP threads) take a reference to whichever is current. Neither
/// side ever waits for the other beyond an atomic pointer swap.
class snapshot_slot {
 public:
  /// Replaces the current snapshot (io thread).
  void publish(std::shared_ptr<const snapshot> s) { current_.store(std::move(s)); }
  /// The current snapshot; nullptr before the first publish (any thread).
  std::shared_ptr<const snapshot> load() const { return current_.load(); }

 private:
  std::atomic<std::shared_ptr<const snapshot>> current_;
};

}  // namespace galeratop
