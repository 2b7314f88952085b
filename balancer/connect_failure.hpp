#pragma once

#include <string>
#include <system_error>

namespace galeratop {

/// Why a node could not be reached for a client.
struct connect_failure {
  std::string why;
  /// This process ran out of descriptors or memory (resource_shortage): the node is not to blame,
  /// and another node would fail the same way.
  bool ours = false;
  /// No TCP connection or no greeting within the timeout: the node may only be slow (a frozen
  /// node's kernel still accepts), where a refusal, a reset or an error packet is its answer.
  bool late = false;
  std::error_code error{};  ///< the socket error, when there was one
};

}  // namespace galeratop
