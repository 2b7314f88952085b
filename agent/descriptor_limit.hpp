#pragma once

#include <cstddef>

namespace galeratop {

/// Raises the soft RLIMIT_NOFILE to the hard limit and returns the soft limit in force. A
/// balancer needs two descriptors a session; systemd and shells start services with a soft
/// limit of 1024 but a far higher hard one, meant to be raised by programs that need it.
std::size_t raise_descriptor_limit();

}  // namespace galeratop
