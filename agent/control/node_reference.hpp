#pragma once

#include <span>
#include <string_view>

#include "agent/control/control_protocol.hpp"
#include "balancer/core/node_record.hpp"

namespace galeratop {

/// The node a control request names: by its name, its configured address or the address it
/// resolved to. nullptr with `error` when that is no node (unknown_node) or more than one
/// (ambiguous_node); the message lists the nodes there are. Pure.
const node_record* find_node(std::span<const node_record> nodes, std::string_view ref, control_error& error);

}  // namespace galeratop
