#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace galeratop {

/// The control protocol (galeratopd(8), CONTROL PROTOCOL): one JSON object per line each way.
/// Requests: {"v":1, "id":ANY, "cmd":"drain", "node":"node2", "force":false, "token":"..."}.
/// Answers:  {"v":1, "id":ANY, "ok":true, ...} or {"v":1, "id":ANY, "ok":false,
///            "error":{"code":"last_node", "message":"..."}}.
/// Pushes after `subscribe`: {"v":1, "event":"status", "status":{...}}.
/// `events` answers {"events":[...], "newest":SEQ}: the events after "since", oldest first.
constexpr int control_protocol_version = 1;
/// A longer request line is refused and the connection closed: no request needs more.
constexpr std::size_t control_max_line = 64 * 1024;

/// What a client asks for.
enum class control_command { status, subscribe, unsubscribe, drain, undrain, ready, maint, weight, reload, writer, events };

/// The wire name of a command.
std::string_view to_string(control_command c);

/// One parsed request.
struct control_request {
  nlohmann::json id;  ///< echoed in the answer; null when the client gave none
  control_command command = control_command::status;
  std::string node;  ///< name or address, for the node commands (`writer`: the node to make writer)
  bool force = false;  ///< drain/maint: also when no other node would take clients
  std::optional<std::uint32_t> weight;  ///< `weight`: the new weight; nullopt clears the override
  std::chrono::milliseconds interval{0};  ///< `subscribe`: 0 = the agent's monitor interval
  std::string token;  ///< required on TCP
  std::uint64_t since = 0;  ///< `events`: those after this seq (0: every one kept)
  /// Who asked, for the events log: "uid 1000 (pid 4242)" or "tcp 10.0.0.5:51234". Set by the
  /// server from the connection, never read from the request.
  std::string who;
};

/// Why a request is refused: a stable code and a sentence.
struct control_error {
  std::string code;
  std::string message;
};

/// A request, or why it is not one (with the id when the line had one).
struct control_parse_result {
  std::optional<control_request> request;
  control_error error;
  nlohmann::json id;
};

/// Parses one request line (without its newline). Pure; never throws.
control_parse_result parse_control_request(std::string_view line);

/// {"v":1,"id":id,"ok":true} merged with `body`'s fields.
nlohmann::json control_ok(const nlohmann::json& id, nlohmann::json body = nlohmann::json::object());
/// {"v":1,"id":id,"ok":false,"error":{"code":code,"message":message}}.
nlohmann::json control_fail(const nlohmann::json& id, const control_error& e);

}  // namespace galeratop
