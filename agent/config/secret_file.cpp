#include "agent/config/secret_file.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <array>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace galeratop {

std::optional<std::string> secret_mode_problem(mode_t mode) {
  if ((mode & S_IRWXO) == 0) return std::nullopt;
  return fmt::format("other users can {} it (mode {:04o}); chmod o-rwx it (0600, or 0640 for a group)",
                     (mode & S_IROTH) ? "read" : "write or execute", mode & 07777);
}

std::optional<std::string> read_secret_file(const std::string& path, std::string_view key, std::string& error) {
  std::string why;
  // A secret is one line; 64 KiB is far more than any password or token.
  const auto text = read_small_file(path, true, 65536, why);
  if (!text) {
    error = fmt::format("{} {}: {}", key, path, why);
    return std::nullopt;
  }
  std::string secret = text->substr(0, text->find('\n'));
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.empty()) {
    error = fmt::format("{} {}: the first line is empty", key, path);
    return std::nullopt;
  }
  return secret;
}

std::optional<std::string> read_small_file(const std::string& path, bool secret, std::size_t max_size,
                                           std::string& why) {
  // The mode is checked on the descriptor that is read, not on the path: a file swapped between
  // a stat() and an open() cannot slip through.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_at_end{fd};
  struct ::stat st {};
  if (::fstat(fd, &st) != 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  if (auto problem = secret ? secret_mode_problem(st.st_mode) : std::nullopt) {
    why = "refused: " + *problem;
    return std::nullopt;
  }
  std::string text;
  std::array<char, 8192> buffer;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::strerror(errno);
      return std::nullopt;
    }
    if (n == 0) return text;
    text.append(buffer.data(), static_cast<std::size_t>(n));
    if (text.size() > max_size) {
      why = fmt::format("larger than {} bytes", max_size);
      return std::nullopt;
    }
  }
}

}  // namespace galeratop
