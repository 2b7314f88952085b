#pragma once

namespace galeratop {

/// One file descriptor held back (on /dev/null) so that, when the process runs out of
/// descriptors, an operator's control connection can still be accepted: release it, accept,
/// and take it back once descriptors are free again (the classic spare-descriptor trick).
class descriptor_reserve {
 public:
  descriptor_reserve() { restore(); }
  ~descriptor_reserve();
  descriptor_reserve(const descriptor_reserve&) = delete;
  descriptor_reserve& operator=(const descriptor_reserve&) = delete;

  /// Frees the held descriptor; false if none was held (already given up).
  bool release();
  /// Holds a descriptor again if none is held and one is free.
  void restore();

 private:
  int fd_ = -1;
};

}  // namespace galeratop
