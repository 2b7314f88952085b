// libFuzzer target: one line of the control protocol (JSON lines, galeratopd(8)). Any line
// gives a request or an error with a code; the answer built from either serialises, even
// when the client's id holds invalid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/control/control_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const auto parsed = galeratop::parse_control_request(line);
  if (!parsed.request && parsed.error.code.empty()) std::abort();
  const auto reply = parsed.request ? galeratop::control_ok(parsed.request->id)
                                    : galeratop::control_fail(parsed.id, parsed.error);
  (void)reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (parsed.request) (void)galeratop::to_string(parsed.request->command);
  return 0;
}
