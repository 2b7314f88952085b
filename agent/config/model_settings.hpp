#pragma once

#include <chrono>

namespace galeratop {

/// Thresholds of the advisories (config section [cluster]).
struct model_settings {
  double flow_control_paused = 0.1;  ///< fraction of time replication may be paused before flow_control is raised
  std::chrono::milliseconds flow_control_window{10000};  ///< over how long that fraction is measured
  std::chrono::milliseconds desync_long{300000};         ///< Donor/Desynced for longer than this: desync_long
};

}  // namespace galeratop
