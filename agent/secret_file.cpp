#include "secret_file.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sys/stat.h>

namespace galeratop {

std::optional<std::string> secret_mode_problem(mode_t mode) {
  if ((mode & S_IRWXO) == 0) return std::nullopt;
  return fmt::format("other users can {} it (mode {:04o}); chmod o-rwx it (0600, or 0640 for a group)",
                     (mode & S_IROTH) ? "read" : "write or execute", mode & 07777);
}

std::optional<std::string> read_secret_file(const std::string& path, std::string_view key, std::string& error) {
  struct ::stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = fmt::format("{} {}: {}", key, path, std::strerror(errno));
    return std::nullopt;
  }
  if (auto problem = secret_mode_problem(st.st_mode)) {
    error = fmt::format("{} {}: refused: {}", key, path, *problem);
    return std::nullopt;
  }
  std::ifstream in(path);
  if (!in) {
    error = fmt::format("{} {}: {}", key, path, std::strerror(errno));
    return std::nullopt;
  }
  std::string secret;
  std::getline(in, secret);
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.empty()) {
    error = fmt::format("{} {}: the first line is empty", key, path);
    return std::nullopt;
  }
  return secret;
}

}  // namespace galeratop
