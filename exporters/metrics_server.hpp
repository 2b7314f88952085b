#pragma once

#include <memory>
#include <prometheus/exposer.h>
#include <string>

#include "snapshot_slot.hpp"

namespace galeratop {

/// Serves GET /metrics (prometheus-cpp pull) on its own threads; every scrape
/// builds the families from the current snapshot, so a scrape never touches
/// or waits for the data path.
class metrics_server {
 public:
  /// Binds `address` (HOST:PORT; [::1]:PORT for IPv6); throws std::runtime_error when it cannot.
  metrics_server(const std::string& address, const snapshot_slot& slot);
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// The bound port (useful with port 0).
  int port() const;

 private:
  class collectable;
  std::shared_ptr<collectable> collectable_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace galeratop
