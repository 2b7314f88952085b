#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace galeratop {

// Where `galeratop drain NODE --wait` stands, from the status objects the agent pushes. Pure:
// status in, a decision and its line out (the sibling of writer_wait_progress, writer_text.hpp).

/// Where a drain --wait stands.
enum class drain_wait {
  drained,    ///< no connection left: done (exit 0)
  draining,   ///< connections left: keep waiting
  readied,    ///< the node was put back to ready meanwhile: it will not drain (exit 1)
  removed,    ///< the node is no longer configured (exit 1)
  timed_out,  ///< connections left at the timeout; the node stays drained (exit 1)
};

/// A drain_wait, the connections left, and one line about it.
struct drain_progress {
  drain_wait state = drain_wait::draining;
  std::int64_t left = 0;  ///< the node's connections now (draining, timed_out)
  std::string text;
};

/// How far the drain of the node `name` at `address` has gone in `status`, `elapsed` after it was
/// asked for and with `timeout` to wait in all.
drain_progress drain_wait_progress(const nlohmann::json& status, const std::string& name, const std::string& address,
                                   std::chrono::milliseconds elapsed, std::chrono::milliseconds timeout);

}  // namespace galeratop
