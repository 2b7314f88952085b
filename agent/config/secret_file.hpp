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

/// Reads a whole small file (a PEM certificate or key, a users file) of at most `max_size` bytes;
/// with `secret`, refuses one that other users can read, as read_secret_file() does. nullopt with
/// the reason (without the path) in `why`.
std::optional<std::string> read_small_file(const std::string& path, bool secret, std::size_t max_size,
                                           std::string& why);

}  // namespace galeratop
