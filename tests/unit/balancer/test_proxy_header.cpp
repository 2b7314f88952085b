#include <asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <string>

#include "balancer/net/address_text.hpp"
#include "balancer/proxy_header.hpp"

using namespace galeratop;
using asio::ip::make_address;
using asio::ip::tcp;

namespace {
const std::string signature("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A", 12);
}

TEST_CASE("a PROXY v2 header over IPv4 has the spec's layout") {
  const std::string h = encode_proxy_v2({make_address("127.0.0.2"), 41234}, {make_address("127.0.0.1"), 3306});
  // Hand-computed: signature, 0x21 (v2, PROXY), 0x11 (TCP over IPv4), length 12, then source and
  // destination addresses, source and destination ports, all big-endian.
  const std::string expected = signature + std::string("\x21\x11\x00\x0C", 4) + std::string("\x7F\x00\x00\x02", 4) +
                               std::string("\x7F\x00\x00\x01", 4) + "\xA1\x12" + "\x0C\xEA";
  CHECK(h == expected);
}

TEST_CASE("a PROXY v2 header over IPv6 carries both 16-byte addresses") {
  const std::string h = encode_proxy_v2({make_address("::1"), 50000}, {make_address("::1"), 3306});
  REQUIRE(h.size() == 16 + 36);
  CHECK(h.substr(0, 12) == signature);
  CHECK(h.substr(12, 4) == std::string("\x21\x21\x00\x24", 4));
  const std::string loopback = std::string(15, '\0') + '\x01';
  CHECK(h.substr(16, 16) == loopback);
  CHECK(h.substr(32, 16) == loopback);
  CHECK(h.substr(48) == "\xC3\x50\x0C\xEA");
}

TEST_CASE("an IPv4-mapped client of a dual-stack listener is told as IPv4") {
  const std::string mapped = encode_proxy_v2({make_address("::ffff:127.0.0.2"), 41234},
                                             {make_address("::ffff:127.0.0.1"), 3306});
  CHECK(mapped == encode_proxy_v2({make_address("127.0.0.2"), 41234}, {make_address("127.0.0.1"), 3306}));
}

TEST_CASE("addresses are written plainly: IPv4-mapped as IPv4, IPv6 in brackets") {
  CHECK(endpoint_text({make_address("::ffff:10.1.2.3"), 5}) == "10.1.2.3:5");
  CHECK(endpoint_text({make_address("10.1.2.3"), 5}) == "10.1.2.3:5");
  CHECK(endpoint_text({make_address("::1"), 3306}) == "[::1]:3306");
  CHECK(plain_address(make_address("::ffff:127.0.0.1")) == make_address("127.0.0.1"));
  CHECK(plain_address(make_address("fe80::1")) == make_address("fe80::1"));
}
