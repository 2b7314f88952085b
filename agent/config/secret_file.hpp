#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace galeratop {

/// Why a secret file with permission bits `mode` is refused, or nullopt when it is fine:
/// a secret other users can read (or write) is no secret, so galeratopd will not use it.
/// Group access is allowed (root:galeratop 0640 is the usual set-up).
std::optional<std::string> secret_mode_problem(mode_t mode);

/// Reads a secret (the monitor password, the control token) from the first line of `path`;
/// nullopt with `error` naming `key` and the path when it is missing, empty, unreadable or
/// readable by other users.
std::optional<std::string> read_secret_file(const std::string& path, std::string_view key, std::string& error);

}  // namespace galeratop
