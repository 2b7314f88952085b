#include "balancer/writer_route.hpp"

namespace galeratop {

bool writer_route::route_to(std::optional<node_id> writer, std::string reason) {
  why = std::move(reason);
  if (writer == node) return false;
  if (writer && last && *writer != *last) ++switches;
  if (writer) last = writer;
  node = writer;
  ++generation;
  settled = false;
  return true;
}

bool writer_route::settle(std::size_t left) {
  if (settled || left != 0) return false;
  settled = true;
  return true;
}

std::optional<node_id> writer_route::ready(const routing_table& t) const {
  if (!node || !settled) return std::nullopt;
  const node_record* r = t.find(*node);
  return r && r->eligible ? node : std::nullopt;
}

}  // namespace galeratop
