#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace galeratop {

// The writer of writer listeners and the listeners as the client shows them, shared by
// `galeratop status`, `galeratop writer` and the screen. Pure: status objects in, text out.

/// The status's writer object; nullptr when the agent has no writer listener ("writer" null or absent).
const nlohmann::json* writer_of(const nlohmann::json& status);

/// The name of the node writer listeners send sessions to now; empty when none, or no writer listener.
std::string writer_node(const nlohmann::json& status);

/// Whether the listeners get lines of their own: more than one, or a writer listener. A single
/// balance listener is all the frontend line says already.
bool shows_listeners(const nlohmann::json& status);

/// The name of the configured node at `address`; the address itself when no node has it, "none" when empty.
std::string node_name_at(const nlohmann::json& status, const std::string& address);

/// A listener's sessions by node, in the status's node order (its JSON object sorts them by
/// name), nodes without a session left out.
std::vector<std::pair<std::string, std::uint64_t>> listener_connections(const nlohmann::json& status,
                                                                        const nlohmann::json& listener);

/// The writer line without its "writer: " prefix: "db2 (epoch 7, settled) by agent-a 5m02s ago:
/// REASON", "…, switching)" while sessions are left elsewhere, "none — WHY" when there is none; then
/// the clients waiting for it, if any.
std::string writer_text(const nlohmann::json& writer);

/// The other agents that follow another writer or epoch, one phrase each: "agent-b follows db1 at epoch 6".
std::vector<std::string> disagreeing_agents(const nlohmann::json& status);

/// The agent's answer to {"cmd":"writer"}: "writer: db2 (epoch 8), was db1", or "…, unchanged".
std::string writer_answer_text(const nlohmann::json& answer);

/// Where `galeratop writer NODE --wait` stands.
enum class writer_wait {
  settled,             ///< NODE is the writer and no writer-listener session is left elsewhere: done
  switching,           ///< not yet: keep waiting
  moved_on,            ///< the row moved past the epoch asked for, to another node: it will not come
  no_writer_listener,  ///< the agent has no writer listener (any more)
};

/// A writer_wait and one line about it.
struct writer_progress {
  writer_wait state = writer_wait::switching;
  std::string text;
};

/// How far the switch to the node `name` at `address`, recorded at `epoch`, has gone in `status`.
writer_progress writer_wait_progress(const nlohmann::json& status, const std::string& name, const std::string& address,
                                     std::uint64_t epoch);

}  // namespace galeratop
