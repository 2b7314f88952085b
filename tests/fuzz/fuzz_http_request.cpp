// libFuzzer target: the request head the metrics endpoint reads. Any bytes classify without
// overrunning; only a well-formed GET or HEAD of /metrics is served; the response to any
// route states its own length.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "exporters/http_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view head(reinterpret_cast<const char*>(data), size);
  const galeratop::http_request r = galeratop::classify_http_request(head);
  if (r.route == galeratop::http_route::metrics && !head.starts_with("GET /metrics") &&
      !head.starts_with("HEAD /metrics"))
    std::abort();
  const std::string response = galeratop::http_response(200, "text/plain", head, r.head_only);
  const std::string length = "Content-Length: " + std::to_string(size) + "\r\n";
  if (response.find(length) == std::string::npos) std::abort();
  if (!r.head_only && !response.ends_with(head)) std::abort();
  return 0;
}
