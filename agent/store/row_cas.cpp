#include "agent/store/row_cas.hpp"

namespace galeratop {

bool create_tables(sql_session& s, std::span<const std::string_view> create, std::string& error) {
  for (const std::string_view statement : create)
    if (!s.execute(std::string(statement), error)) return false;
  return true;
}

}  // namespace galeratop
