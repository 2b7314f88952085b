#pragma once

#include <optional>
#include <prometheus/metric_family.h>
#include <span>
#include <string_view>
#include <vector>

#include "agent/cluster/snapshot.hpp"

namespace galeratop {

/// Every metric family of one scrape, built from one snapshot (DESIGN section 4):
/// mysqld_exporter-compatible wsrep families per node, and galeratop's own
/// balancer, monitor, cluster and advisory families. Pure.
std::vector<prometheus::MetricFamily> metric_families(const snapshot& s);

/// The wsrep status variables exported as mysql_global_status_* families.
std::span<const std::string_view> exported_wsrep_variables();

}  // namespace galeratop
