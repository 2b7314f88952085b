#include "agent/descriptor_limit.hpp"

#include <sys/resource.h>

namespace galeratop {

std::size_t raise_descriptor_limit() {
  ::rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  if (lim.rlim_cur < lim.rlim_max) {
    ::rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  // RLIM_INFINITY is not a count; no kernel allows more than this many descriptors anyway.
  constexpr rlim_t ceiling = 1u << 20;
  return static_cast<std::size_t>(lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur > ceiling ? ceiling : lim.rlim_cur);
}

}  // namespace galeratop
