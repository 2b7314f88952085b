// libFuzzer target: a node's status rows as the monitor receives them (name TAB value, one per
// line), through the typed view, the exporter's value parser and the health classification.
// A node can send anything in a status value; none of it may crash the agent.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "balancer/core/health_tracker.hpp"
#include "balancer/core/wsrep_status.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<std::string, std::string>> rows;
  for (std::size_t start = 0; start <= text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos)
      rows.emplace_back(std::string(line), "");
    else
      rows.emplace_back(std::string(line.substr(0, tab)), std::string(line.substr(tab + 1)));
    start = end + 1;
  }
  for (const auto& [name, value] : rows)
    if (auto v = galeratop::parse_status_value(value); v && std::isnan(*v)) std::abort();  // a sample must be a number

  galeratop::observation obs;
  obs.status = galeratop::parse_wsrep_status(rows);
  galeratop::peer_view peers{true, obs.status->cluster_state_uuid, obs.status->cluster_conf_id + 1};
  (void)galeratop::classify(obs, peers);
  (void)galeratop::classify(obs, galeratop::peer_view{});
  galeratop::health_tracker tracker({.rise = 2});
  tracker.observe(obs, peers);
  return 0;
}
