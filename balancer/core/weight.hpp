#pragma once

#include <cstdint>
#include <string_view>

namespace galeratop {

/// The heaviest weight a node can have. Weights are relative to each other; 0 = no new
/// connections, keep existing (glb).
inline constexpr std::uint32_t max_weight = 1000;

/// The one range check of a weight from outside: the configuration, the control protocol, the
/// state file, the shared table and galeratop's own input all ask it.
constexpr bool valid_weight(std::int64_t w) { return w >= 0 && w <= max_weight; }

/// What valid_weight() asks for, in the words of a refusal.
inline constexpr std::string_view weight_rule = "an integer from 0 to 1000";

}  // namespace galeratop
