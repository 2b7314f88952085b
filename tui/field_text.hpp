#pragma once

#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>

namespace galeratop {

/// A field of a status object as a person reads it: "-" when absent or null, strings as
/// they are, whole numbers without a decimal point (wsrep counters arrive as doubles).
inline std::string field_text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  if (it->is_number_float() && std::trunc(it->get<double>()) == it->get<double>())
    return fmt::format("{:.0f}", it->get<double>());
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace galeratop
