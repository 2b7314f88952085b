#pragma once

#include <memory>
#include <mutex>

#include "agent/cluster/snapshot.hpp"

namespace galeratop {

/// The one cross-thread hand-off of state (DESIGN rule 2): the io thread
/// publishes a fresh immutable snapshot, and readers on other threads (the
/// exporter's thread) take a reference to whichever is current. Neither side
/// ever waits for the other beyond the copy of one pointer.
///
/// A mutex, not std::atomic<std::shared_ptr>: libstdc++ 12's load() releases its
/// internal lock with relaxed ordering, a data race by the memory model that
/// ThreadSanitizer reports; an uncontended mutex costs the same here.
class snapshot_slot {
 public:
  /// Replaces the current snapshot (io thread).
  void publish(std::shared_ptr<const snapshot> s) {
    std::lock_guard lock(mutex_);
    current_.swap(s);
  }  // the old snapshot, if last, is freed here, outside the lock
  /// The current snapshot; nullptr before the first publish (any thread).
  std::shared_ptr<const snapshot> load() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const snapshot> current_;
};

}  // namespace galeratop
