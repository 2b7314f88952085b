// libFuzzer target: the state files galeratopd reads at start (operator intents, bootstrap
// memory), which a crash, a full disk or an editor may have left in any shape. Restoring
// either succeeds or says why; what was restored serialises and restores to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/cluster/bootstrap_memory.hpp"
#include "agent/intents/intent_store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  galeratop::intent_store intents;
  if (intents.restore(text, error)) {
    const std::string once = intents.serialize();
    galeratop::intent_store again;
    if (!again.restore(once, error) || again.serialize() != once) std::abort();
  } else if (error.empty()) {
    std::abort();
  }
  error.clear();
  galeratop::bootstrap_memory memory;
  if (memory.restore(text, error)) {
    const std::string once = memory.serialize();
    galeratop::bootstrap_memory again;
    if (!again.restore(once, error) || again.serialize() != once) std::abort();
  } else if (error.empty()) {
    std::abort();
  }
  return 0;
}
