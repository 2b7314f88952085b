// libFuzzer target: the MySQL packets galeratopd reads (a node's first packet: greeting or ERR)
// and writes (its own ERR packets). Reading never overruns; what it writes reads back as an
// ERR packet whose message is the one given, or a prefix of it when it was cut.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "balancer/mysql_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const char> bytes(reinterpret_cast<const char*>(data), size);
  const bool err = galeratop::starts_with_err_packet(bytes);
  const std::string message = galeratop::err_packet_message(bytes);
  if (!err && !message.empty()) std::abort();

  if (size < 3) return 0;
  const auto code = static_cast<std::uint16_t>(data[0] | (data[1] << 8));
  const auto seq = static_cast<std::uint8_t>(data[2]);
  const std::string_view rest(reinterpret_cast<const char*>(data) + 3, size - 3);
  const std::string_view sqlstate = rest.substr(0, 5);
  const std::string_view text = rest.substr(sqlstate.size());
  const std::string packet = galeratop::encode_err_packet(code, sqlstate, text, seq);
  if (!galeratop::starts_with_err_packet(packet)) std::abort();
  const std::string back = galeratop::err_packet_message(packet);
  if (!text.starts_with(back)) std::abort();
  return 0;
}
