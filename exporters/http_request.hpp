#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace galeratop {

/// The longest request head (request line and headers) the metrics endpoint reads; a
/// scraper sends a few hundred bytes, so anything longer is answered 431 and closed.
inline constexpr std::size_t http_max_head = 8192;

/// What the metrics endpoint does with one request.
enum class http_route {
  metrics,             ///< GET or HEAD /metrics (any query string): the exposition
  not_found,           ///< another path: 404
  method_not_allowed,  ///< /metrics with another method: 405 (the endpoint is read-only)
  bad_request,         ///< not an HTTP/1.x request line: 400
};

/// A request, as far as the endpoint cares.
struct http_request {
  http_route route = http_route::bad_request;
  bool head_only = false;  ///< HEAD: the status and headers, no body
  std::string authorization;  ///< the Authorization header's value; "" when there is none
};

/// Classifies a request head: the bytes before the blank line that ends it (pure).
http_request classify_http_request(std::string_view head);

/// A whole HTTP/1.1 response that closes the connection after it (pure); a 401 asks for basic auth.
std::string http_response(int status, std::string_view content_type, std::string_view body, bool head_only);

/// The reason phrase of the statuses the endpoint sends ("Unknown" for others).
std::string_view http_reason(int status);

}  // namespace galeratop
