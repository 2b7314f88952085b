// libFuzzer target: the TOML configuration (galeratopd.toml(5)) and the values inside it that
// have parsers of their own (HOST:PORT, [NAME=]HOST:PORT, durations). Whatever the bytes,
// parsing returns a configuration or errors; a configuration it returns passes validate()
// without surprises, and a duration that parses prints back to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/config/config.hpp"
#include "agent/config/endpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = galeratop::parse_config(text, "fuzz.toml");
  if (r.value == std::nullopt && r.errors.empty()) std::abort();  // a refusal always says why
  for (const auto& e : r.errors) (void)e.to_string();
  if (r.value) (void)galeratop::validate(*r.value);

  (void)galeratop::parse_endpoint(text);
  (void)galeratop::parse_named_endpoint(text);
  if (auto d = galeratop::parse_duration(text)) {
    auto again = galeratop::parse_duration(galeratop::format_duration(*d));
    if (!again || *again != *d) std::abort();
  }
  return 0;
}
