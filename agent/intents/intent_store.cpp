#include "agent/intents/intent_store.hpp"

#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>

#include "agent/config/json_integer.hpp"

namespace galeratop {
namespace {
using json = nlohmann::json;
constexpr int format_version = 1;
}  // namespace

intent intent_store::get(std::string_view address) const {
  auto it = intents_.find(address);
  return it == intents_.end() ? intent{} : it->second;
}

bool intent_store::set(const std::string& address, const intent& i) {
  if (get(address) == i) return false;
  if (i.is_default())
    intents_.erase(address);
  else
    intents_[address] = i;
  return true;
}

std::string intent_store::serialize() const {
  json nodes = json::object();
  for (const auto& [address, i] : intents_) {
    json n = {{"admin", to_string(i.admin)},
              {"since", std::chrono::duration_cast<std::chrono::milliseconds>(i.since.time_since_epoch()).count()}};
    n["weight"] = i.weight ? json(*i.weight) : json(nullptr);
    n["shared_version"] = i.version;
    n["pending"] = i.pending;
    nodes[address] = n;
  }
  return json{{"version", format_version}, {"nodes", nodes}}.dump(2) + "\n";
}

bool intent_store::restore(std::string_view text, std::string& error) {
  try {
    const json j = json::parse(text);
    if (!j.at("version").is_number_integer() || j.at("version") != format_version) {
      error = "unsupported version " + j.at("version").dump();
      return false;
    }
    std::map<std::string, intent, std::less<>> restored;
    for (const auto& [address, n] : j.at("nodes").items()) {
      intent i;
      auto admin = admin_state_from_string(n.at("admin").get<std::string>());
      if (!admin) {
        error = address + ": unknown admin state " + n.at("admin").dump();
        return false;
      }
      i.admin = *admin;
      i.since = std::chrono::system_clock::time_point(
          std::chrono::milliseconds(integer_member<std::int64_t>(n, "since", 0, latest_since_ms)));
      if (const json& w = n.at("weight"); !w.is_null()) {
        if (!w.is_number_unsigned() || w.get<std::uint64_t>() > max_weight) {
          error = address + ": weight must be " + std::string(weight_rule) + ", not " + w.dump();
          return false;
        }
        i.weight = w.get<std::uint32_t>();
      }
      // Both absent in files written before intents were shared: a local intent, never shared.
      i.version = n.contains("shared_version")
                      ? integer_member<std::uint64_t>(n, "shared_version", 0, std::numeric_limits<std::int64_t>::max())
                      : 0;
      if (n.contains("pending")) {
        if (!n.at("pending").is_boolean()) {
          error = address + ": pending must be true or false";
          return false;
        }
        i.pending = n.at("pending").get<bool>();
      }
      if (!i.is_default()) restored[address] = i;
    }
    intents_ = std::move(restored);
    return true;
  } catch (const std::exception& e) {  // json::exception, or std::out_of_range from integer_member
    error = e.what();
    return false;
  }
}

}  // namespace galeratop
