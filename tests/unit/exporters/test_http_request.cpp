#include <catch2/catch.hpp>

#include "exporters/http_request.hpp"

using namespace galeratop;

TEST_CASE("a scrape of /metrics is served, with or without a query string") {
  auto r = classify_http_request("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*");
  CHECK(r.route == http_route::metrics);
  CHECK_FALSE(r.head_only);
  CHECK(classify_http_request("GET /metrics?name[]=mysql_up HTTP/1.0").route == http_route::metrics);
  r = classify_http_request("HEAD /metrics HTTP/1.1\r\n");
  CHECK(r.route == http_route::metrics);
  CHECK(r.head_only);
}

TEST_CASE("the metrics endpoint is read-only: another method on /metrics is 405") {
  CHECK(classify_http_request("POST /metrics HTTP/1.1\r\nContent-Length: 3").route == http_route::method_not_allowed);
  CHECK(classify_http_request("DELETE /metrics HTTP/1.1").route == http_route::method_not_allowed);
}

TEST_CASE("other paths are 404") {
  CHECK(classify_http_request("GET / HTTP/1.1").route == http_route::not_found);
  CHECK(classify_http_request("GET /metricsx HTTP/1.1").route == http_route::not_found);
  CHECK(classify_http_request("GET /metrics/ HTTP/1.1").route == http_route::not_found);
}

TEST_CASE("what is not an HTTP/1 request line is 400") {
  CHECK(classify_http_request("").route == http_route::bad_request);
  CHECK(classify_http_request("GET /metrics").route == http_route::bad_request);
  CHECK(classify_http_request("GET /metrics HTTP/2").route == http_route::bad_request);
  CHECK(classify_http_request("GET metrics HTTP/1.1").route == http_route::bad_request);
  CHECK(classify_http_request("GET  /metrics HTTP/1.1").route == http_route::bad_request);
  CHECK(classify_http_request("GET /metrics HTTP/1.1 extra").route == http_route::bad_request);
  CHECK(classify_http_request(std::string_view("\0\xff\x01 / HTTP/1.1", 15)).route != http_route::metrics);
}

TEST_CASE("a response says how long it is and that the connection closes, HEAD has no body") {
  CHECK(http_response(200, "text/plain", "abc", false) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
  CHECK(http_response(200, "text/plain", "abc", true) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\n");
  CHECK(http_response(405, "text/plain", "", false).find("Allow: GET, HEAD\r\n") != std::string::npos);
  CHECK(http_reason(431) == "Request Header Fields Too Large");
}

TEST_CASE("the Authorization header is kept, found in any case, without surrounding blanks") {
  CHECK(classify_http_request("GET /metrics HTTP/1.1\r\nHost: x\r\nauthorization:  Basic YTpi \r\nAccept: */*")
            .authorization == "Basic YTpi");
  CHECK(classify_http_request("GET /metrics HTTP/1.1\r\nAUTHORIZATION: Basic YTpi").authorization == "Basic YTpi");
  CHECK(classify_http_request("GET /metrics HTTP/1.1\r\nHost: x").authorization.empty());
  CHECK(classify_http_request("GET /metrics HTTP/1.1\r\nX-Authorization: Basic YTpi").authorization.empty());
}

TEST_CASE("a 401 asks for basic auth in the galeratop realm") {
  const std::string r = http_response(401, "text/plain", "who are you\n", false);
  CHECK(r.starts_with("HTTP/1.1 401 Unauthorized\r\n"));
  CHECK(r.find("\r\nWWW-Authenticate: Basic realm=\"galeratop\"\r\n") != std::string::npos);
  CHECK(http_response(200, "text/plain", "", false).find("WWW-Authenticate") == std::string::npos);
}
