#include <catch2/catch.hpp>
#include <string>

#include "balancer/mysql_packet.hpp"

using namespace galeratop;

TEST_CASE("an ERR packet has the MySQL wire layout") {
  const std::string p = encode_err_packet(1047, "08S01", "galeratop: no", 0);
  // Hand-computed: payload = ff, 17 04 (1047 LE), '#', "08S01", "galeratop: no" = 1+2+1+5+13 = 22 bytes.
  const std::string expected = std::string("\x16\x00\x00\x00", 4) + "\xff\x17\x04#08S01" + "galeratop: no";
  CHECK(p == expected);
}

TEST_CASE("the ERR packet carries the sequence id it is given") {
  CHECK(encode_err_packet(1040, "08004", "x", 2)[3] == '\x02');
}

TEST_CASE("a long message is cut so that the packet stays small") {
  const std::string p = encode_err_packet(1047, "08S01", std::string(5000, 'a'));
  CHECK(p.size() == 4 + 9 + 512);
  CHECK(static_cast<unsigned char>(p[0]) == ((9 + 512) & 0xff));
  CHECK(static_cast<unsigned char>(p[1]) == ((9 + 512) >> 8));
}

TEST_CASE("an ERR packet's message reads back") {
  const std::string p = encode_err_packet(1047, "08S01", "galeratop: no Galera node is available");
  CHECK(starts_with_err_packet(p));
  CHECK(err_packet_message(p) == "galeratop: no Galera node is available");
}

TEST_CASE("a server greeting is not an ERR packet") {
  // Protocol 10 greeting header: length, seq 0, then 0x0a and the version string.
  const std::string greeting = std::string("\x5a\x00\x00\x00\x0a", 5) + "10.11.19-MariaDB";
  CHECK_FALSE(starts_with_err_packet(greeting));
  CHECK(err_packet_message(greeting).empty());
}

TEST_CASE("a pre-4.1 ERR packet without SQLSTATE reads back, a truncated one is not trusted") {
  const std::string old = std::string("\x14\x00\x00\x00\xff\x10\x04", 7) + "Too many connecti";
  CHECK(err_packet_message(old) == "Too many connecti");
  CHECK_FALSE(starts_with_err_packet(std::string("\x05\x00\x00", 3)));
  CHECK(err_packet_message(std::string("\x05\x00\x00\x00\xff\x10", 6)).empty());
}
