#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

namespace galeratop {

/// The user galeratopd runs as after start, looked up before anything is bound.
struct run_as {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

/// Looks up `user`; nullopt with `error` when there is no such user, or when galeratopd is not
/// root and `user` is not who it already is (only root can change user).
std::optional<run_as> find_run_as(const std::string& user, std::string& error);

/// Becomes `who` for good: its supplementary groups, then its group, then its user, so that
/// nothing can be regained (checked: setuid(0) must fail afterwards). Returns false with
/// `error` on any failure; the caller must then exit rather than run as root by mistake.
bool drop_privileges(const run_as& who, std::string& error);

}  // namespace galeratop
