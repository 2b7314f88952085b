#include "exporters/http_request.hpp"

#include <fmt/format.h>

namespace galeratop {

namespace {
/// The value of header `name` (lower case) in the header lines of `head`, "" when absent.
std::string header_value(std::string_view head, std::string_view name) {
  for (auto at = head.find("\r\n"); at != std::string_view::npos; at = head.find("\r\n", at + 2)) {
    std::string_view line = head.substr(at + 2);
    line = line.substr(0, line.find("\r\n"));
    if (line.size() <= name.size() || line[name.size()] != ':') continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size() && same; ++i) same = (line[i] | 0x20) == name[i];  // case-insensitive
    if (!same) continue;
    std::string_view value = line.substr(name.size() + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    return std::string(value);
  }
  return {};
}
}  // namespace

http_request classify_http_request(std::string_view head) {
  // The request line and the Authorization header matter: METHOD SP TARGET SP HTTP/1.x. Other
  // headers are ignored (no keep-alive, no compression: one answer, then close).
  const std::string_view line = head.substr(0, head.find("\r\n"));
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return {};
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || target.empty() || target.front() != '/' || !version.starts_with("HTTP/1.")) return {};
  target = target.substr(0, target.find('?'));
  std::string authorization = header_value(head, "authorization");
  if (target != "/metrics") return {http_route::not_found, method == "HEAD", std::move(authorization)};
  if (method != "GET" && method != "HEAD") return {http_route::method_not_allowed, false, std::move(authorization)};
  return {http_route::metrics, method == "HEAD", std::move(authorization)};
}

std::string_view http_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    default: return "Unknown";
  }
}

std::string http_response(int status, std::string_view content_type, std::string_view body, bool head_only) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n",
                                status, http_reason(status), content_type, body.size(),
                                status == 405   ? "Allow: GET, HEAD\r\n"
                                : status == 401 ? "WWW-Authenticate: Basic realm=\"galeratop\"\r\n"
                                                : "");
  if (!head_only) out.append(body);
  return out;
}

}  // namespace galeratop
