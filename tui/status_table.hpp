#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace galeratop {

/// `galeratop status` for people: the cluster line, one aligned row per node (node, address,
/// state, admin, eligible, connections, share, queries per second, p99 latency, drain progress)
/// and the advisories. Pure: the status object of the control protocol in, text out.
std::string render_status_table(const nlohmann::json& status);

}  // namespace galeratop
