#pragma once

#include <concepts>
#include <cstdint>
#include <fmt/format.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace galeratop {

/// Member `key` of a JSON object read from outside (a state file) as an integer in [min, max];
/// throws std::out_of_range naming the key otherwise. nlohmann's get<T>() would convert a
/// float or an out-of-range number to T with undefined behaviour.
template <std::integral T>
T integer_member(const nlohmann::json& object, std::string_view key, T min = std::numeric_limits<T>::min(),
                 T max = std::numeric_limits<T>::max()) {
  const nlohmann::json& v = object.at(key);
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (std::cmp_greater_equal(u, min) && std::cmp_less_equal(u, max)) return static_cast<T>(u);
  } else if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if (std::cmp_greater_equal(i, min) && std::cmp_less_equal(i, max)) return static_cast<T>(i);
  }
  throw std::out_of_range(fmt::format("{}: {} is not an integer from {} to {}", key, v.dump(), min, max));
}

}  // namespace galeratop
