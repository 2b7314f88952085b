// libFuzzer target: the session tracker, fed what a client and a server could send. The input is
// a run of chunks, each a byte (its low bit: from the server; the rest: its length) and then its
// bytes. Whatever the bytes: no overrun, the same answers when each chunk comes a byte at a time
// (the relay's reads cut streams anywhere), a safe point is never in flight, opaque is for good.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "balancer/session_tracker.hpp"

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  galeratop::session_tracker whole, bytewise;
  std::size_t at = 0;
  while (at < size) {
    const bool from_server = data[at] & 1;
    const std::size_t length = std::min<std::size_t>(data[at] >> 1, size - at - 1);
    const std::span<const char> chunk(reinterpret_cast<const char*>(data) + at + 1, length);
    at += 1 + length;
    const bool was_opaque = whole.opaque();
    const std::uint32_t n = from_server ? whole.from_server(chunk) : whole.from_client(chunk);
    std::uint32_t m = 0;
    for (std::size_t i = 0; i < chunk.size(); ++i)
      m += from_server ? bytewise.from_server(chunk.subspan(i, 1)) : bytewise.from_client(chunk.subspan(i, 1));
    check(n == m);
    check(whole.opaque() == bytewise.opaque() && whole.in_flight() == bytewise.in_flight() &&
          whole.in_transaction() == bytewise.in_transaction() && whole.err_sequence() == bytewise.err_sequence());
    check(!was_opaque || whole.opaque());
    check(!whole.at_safe_point() || !whole.in_flight());
    check(whole.commands_in_flight() <= 16);
  }
  return 0;
}
