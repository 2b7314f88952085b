#include "metrics_server.hpp"

#include <fmt/format.h>
#include <prometheus/collectable.h>

#include <stdexcept>

#include "metric_families.hpp"

namespace galeratop {

class metrics_server::collectable : public prometheus::Collectable {
 public:
  explicit collectable(const snapshot_slot& slot) : slot_(slot) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    const auto s = slot_.load();
    return s ? metric_families(*s) : std::vector<prometheus::MetricFamily>{};
  }

 private:
  const snapshot_slot& slot_;
};

metrics_server::metrics_server(const std::string& address, const snapshot_slot& slot)
    : collectable_(std::make_shared<collectable>(slot)) {
  // Bounded: two threads, and a client that stalls mid-request is dropped after 5 s (house rule 7).
  std::vector<std::string> options{"listening_ports", address, "num_threads", "2", "request_timeout_ms", "5000"};
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(std::move(options));
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("agent.metrics {}: cannot listen: {}", address, e.what()));
  }
  exposer_->RegisterCollectable(collectable_);
}

metrics_server::~metrics_server() = default;

int metrics_server::port() const {
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace galeratop
