#include "agent/privilege_drop.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace galeratop {

std::optional<run_as> find_run_as(const std::string& user, std::string& error) {
  const ::passwd* pw = ::getpwnam(user.c_str());
  if (!pw) {
    error = fmt::format("agent.user {}: no such user", user);
    return std::nullopt;
  }
  run_as who{user, pw->pw_uid, pw->pw_gid};
  if (::geteuid() != 0 && ::geteuid() != who.uid) {
    error = fmt::format("agent.user {}: galeratopd must start as root to become another user", user);
    return std::nullopt;
  }
  return who;
}

bool drop_privileges(const run_as& who, std::string& error) {
  if (::geteuid() == who.uid && ::getegid() == who.gid) return true;  // already that user
  auto fail = [&](const char* step) {
    error = fmt::format("agent.user {}: {} failed: {}", who.name, step, std::strerror(errno));
    return false;
  };
  // glibc applies each of these to every thread of the process (the monitors are already running).
  if (::initgroups(who.name.c_str(), who.gid) != 0) return fail("initgroups");
  if (::setresgid(who.gid, who.gid, who.gid) != 0) return fail("setresgid");
  if (::setresuid(who.uid, who.uid, who.uid) != 0) return fail("setresuid");
  if (who.uid != 0 && ::setuid(0) == 0) {
    error = fmt::format("agent.user {}: root could be regained after the drop", who.name);
    return false;
  }
  return true;
}

}  // namespace galeratop
