#include "balancer/net/descriptor_reserve.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace galeratop {

descriptor_reserve::~descriptor_reserve() { release(); }

bool descriptor_reserve::release() {
  if (fd_ < 0) return false;
  ::close(fd_);
  fd_ = -1;
  return true;
}

void descriptor_reserve::restore() {
  if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

}  // namespace galeratop
