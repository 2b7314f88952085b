#include "agent/control/control_protocol.hpp"

#include <array>
#include <fmt/format.h>
#include <utility>

#include "balancer/core/weight.hpp"

namespace galeratop {
namespace {
using json = nlohmann::json;

constexpr std::array<std::pair<control_command, std::string_view>, 11> command_names{{
    {control_command::status, "status"},
    {control_command::subscribe, "subscribe"},
    {control_command::unsubscribe, "unsubscribe"},
    {control_command::drain, "drain"},
    {control_command::undrain, "undrain"},
    {control_command::ready, "ready"},
    {control_command::maint, "maint"},
    {control_command::weight, "weight"},
    {control_command::reload, "reload"},
    {control_command::writer, "writer"},
    {control_command::events, "events"},
}};

bool names_a_node(control_command c) {
  return c == control_command::drain || c == control_command::undrain || c == control_command::ready ||
         c == control_command::maint || c == control_command::weight || c == control_command::writer;
}

control_parse_result refuse(json id, std::string code, std::string message) {
  return {std::nullopt, {std::move(code), std::move(message)}, std::move(id)};
}
}  // namespace

std::string_view to_string(control_command c) {
  for (const auto& [command, name] : command_names)
    if (command == c) return name;
  return "status";
}

control_parse_result parse_control_request(std::string_view line) {
  if (line.size() > control_max_line)
    return refuse(nullptr, "too_long", fmt::format("a request is at most {} bytes", control_max_line));
  const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return refuse(nullptr, "bad_json", "the request is not valid JSON");
  if (!j.is_object()) return refuse(nullptr, "bad_request", "the request must be a JSON object");
  json id = j.value("id", json(nullptr));
  const auto field = [&](const char* key) { return j.find(key) == j.end() ? nullptr : &j.at(key); };

  if (const json* v = field("v"); v && !(v->is_number_integer() && v->get<std::int64_t>() == control_protocol_version))
    return refuse(id, "unsupported_version",
                  fmt::format("this galeratopd speaks protocol version {}", control_protocol_version));
  const json* cmd = field("cmd");
  if (!cmd || !cmd->is_string()) return refuse(id, "bad_request", "\"cmd\" (a string) is missing");
  control_request r;
  r.id = id;
  bool known = false;
  for (const auto& [command, name] : command_names)
    if (name == cmd->get_ref<const std::string&>()) r.command = command, known = true;
  if (!known) {
    std::string names;
    for (const auto& [command, name] : command_names) names += fmt::format("{}{}", names.empty() ? "" : ", ", name);
    return refuse(id, "unknown_command", fmt::format("unknown command {}; known: {}", cmd->dump(), names));
  }
  if (const json* t = field("token")) {
    if (!t->is_string()) return refuse(id, "bad_request", "\"token\" must be a string");
    r.token = t->get<std::string>();
  }
  if (names_a_node(r.command)) {
    const json* node = field("node");
    if (!node || !node->is_string() || node->get_ref<const std::string&>().empty())
      return refuse(id, "bad_request", fmt::format("\"{}\" needs \"node\": a node's name or address", to_string(r.command)));
    r.node = node->get<std::string>();
  }
  if (const json* f = field("force")) {
    if (!f->is_boolean()) return refuse(id, "bad_request", "\"force\" must be true or false");
    r.force = f->get<bool>();
  }
  if (r.command == control_command::weight) {
    const json* w = field("weight");
    if (!w)
      return refuse(id, "bad_request",
                    fmt::format("\"weight\" needs \"weight\": {}, or null for the configured one", weight_rule));
    if (!w->is_null()) {
      if (!w->is_number_integer() || !valid_weight(w->get<std::int64_t>()))
        return refuse(id, "bad_request", fmt::format("\"weight\" must be {}, or null", weight_rule));
      r.weight = w->get<std::uint32_t>();
    }
  }
  if (const json* i = field("interval_ms")) {
    if (!i->is_number_integer() || i->get<std::int64_t>() < 100 || i->get<std::int64_t>() > 60000)
      return refuse(id, "bad_request", "\"interval_ms\" must be an integer from 100 to 60000");
    r.interval = std::chrono::milliseconds(i->get<std::int64_t>());
  }
  if (const json* since = field("since")) {
    if (!since->is_number_unsigned()) return refuse(id, "bad_request", "\"since\" must be an event's seq (0 or more)");
    r.since = since->get<std::uint64_t>();
  }
  return {std::move(r), {}, std::move(id)};
}

json control_ok(const json& id, json body) {
  json out = {{"v", control_protocol_version}, {"id", id}, {"ok", true}};
  out.update(body);
  return out;
}

json control_fail(const json& id, const control_error& e) {
  return {{"v", control_protocol_version}, {"id", id}, {"ok", false}, {"error", {{"code", e.code}, {"message", e.message}}}};
}

}  // namespace galeratop
