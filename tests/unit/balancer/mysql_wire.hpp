#pragma once

// MySQL packets as clients and servers send them, built by hand for the tests of what follows
// sessions (the session tracker, the safe-point rule).
#include <cstdint>
#include <initializer_list>
#include <string>

#include "balancer/session_tracker.hpp"

namespace galeratop::test {

// Capability flags a client states in its handshake response.
constexpr std::uint32_t protocol_41 = 1u << 9;
constexpr std::uint32_t ssl = 1u << 11;
constexpr std::uint32_t compress = 1u << 5;
constexpr std::uint32_t deprecate_eof = 1u << 24;
constexpr std::uint32_t cache_metadata_ext = 1u << 4;  // MARIADB_CLIENT_CACHE_METADATA >> 32

constexpr std::uint16_t in_trans = 0x0001;
constexpr std::uint16_t autocommit = 0x0002;
constexpr std::uint16_t more_results = 0x0008;
constexpr std::uint16_t cursor_exists = 0x0040;

inline std::string packet(std::uint8_t seq, const std::string& payload) {
  std::string p;
  const std::size_t n = payload.size();
  p.push_back(static_cast<char>(n & 0xff));
  p.push_back(static_cast<char>((n >> 8) & 0xff));
  p.push_back(static_cast<char>((n >> 16) & 0xff));
  p.push_back(static_cast<char>(seq));
  return p + payload;
}

inline std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

inline std::string le32(std::uint32_t v) { return bytes({int(v & 0xff), int((v >> 8) & 0xff), int((v >> 16) & 0xff), int(v >> 24)}); }

inline std::string handshake_response(std::uint32_t caps, std::uint32_t ext = 0) {
  std::string p = le32(caps) + le32(1 << 24) + "\x21" + std::string(19, '\0') + le32(ext) + "app" + '\0';
  p += '\0';  // no auth data
  return packet(1, p);
}

inline std::string ok(std::uint8_t seq, std::uint16_t status, char header = 0x00) {
  return packet(seq, std::string(1, header) + bytes({0, 0, status & 0xff, status >> 8, 0, 0}));
}

inline std::string eof(std::uint8_t seq, std::uint16_t status) {
  return packet(seq, bytes({0xfe, 0, 0, status & 0xff, status >> 8}));
}

inline std::string err(std::uint8_t seq, std::uint16_t code = 1146) {
  return packet(seq, bytes({0xff, code & 0xff, code >> 8}) + "#42S02no such table");
}

inline std::string query(const std::string& sql) { return packet(0, "\x03" + sql); }
inline std::string column_def(std::uint8_t seq) { return packet(seq, "\x03" "def" "\x00\x00\x00\x01" "a" "\x00\x0c\x21\x00"); }
inline std::string text_row(std::uint8_t seq, const std::string& v) { return packet(seq, std::string(1, char(v.size())) + v); }

/// A session past its authentication (OK with autocommit), with these capabilities.
inline session_tracker authenticated(std::uint32_t caps = protocol_41 | deprecate_eof, std::uint32_t ext = 0) {
  session_tracker t;
  t.from_client(handshake_response(caps, ext));
  t.from_server(ok(2, autocommit));
  return t;
}

/// A text result set of one column and `rows` rows, as a server sends it, starting at sequence 1.
inline std::string text_result(bool eofs, int rows, std::uint16_t status) {
  std::uint8_t seq = 3;
  std::string r = packet(1, "\x01") + column_def(2);
  if (eofs) r += eof(seq++, status & ~more_results);
  for (int i = 0; i < rows; ++i) r += text_row(seq++, "row" + std::to_string(i));
  r += eofs ? eof(seq++, status) : ok(seq++, status, static_cast<char>(0xfe));
  return r;
}

}  // namespace galeratop::test
