// libFuzzer target: a row of galeratop.intents, which any agent version or a DBA may have written.
// Input: tab-separated columns, "\N" for NULL (as the mariadb client prints them). A row is parsed
// or refused with a reason; a parsed row survives what the agents do with it: a change writes
// exactly one version more, a compare-and-set on another version is a conflict, and adopting it
// keeps its version.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "agent/intents/shared_intent.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace galeratop;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::optional<std::string>> columns;
  std::size_t start = 0;
  for (;;) {
    const std::size_t tab = text.find('\t', start);
    const std::string_view cell = text.substr(start, tab == std::string_view::npos ? text.size() - start : tab - start);
    columns.push_back(cell == "\\N" ? std::nullopt : std::optional<std::string>(cell));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  std::string error;
  const auto row = parse_shared_intent(columns, error);
  if (!row) {
    if (error.empty()) std::abort();
    return 0;
  }
  if (row->version == 0 || adopted(row).version != row->version || adopted(row).pending) std::abort();
  const intent_change drain{row->node, admin_state::drain, std::nullopt, {}, std::nullopt};
  const change_outcome o = apply_change(row, drain, "fuzz");
  if (o.result == change_outcome::kind::written && o.row->version != row->version + 1) std::abort();
  if (o.result == change_outcome::kind::conflict) std::abort();
  const intent_change stale{row->node, admin_state::maint, std::nullopt, {}, row->version - 1};
  if (apply_change(row, stale, "fuzz").result != change_outcome::kind::conflict) std::abort();
  if (reconcile(adopted(row), row, true) != reconcile_action::none) std::abort();
  return 0;
}
