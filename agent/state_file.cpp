#include "agent/state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "balancer/core/log.hpp"

namespace galeratop {
namespace {
/// Closes a descriptor when it goes out of scope.
struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

std::string errno_text() { return std::strerror(errno); }
}  // namespace

state_file::state_file(std::string path)
    : path_(std::move(path)), thread_([this](std::stop_token st) { run(st); }) {}

state_file::~state_file() {
  thread_.request_stop();
  wake_.notify_all();
}

void state_file::store(std::string content) {
  {
    std::lock_guard lock(mutex_);
    pending_ = std::move(content);
  }
  wake_.notify_all();
}

void state_file::run(std::stop_token stop) {
  for (;;) {
    std::optional<std::string> content;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, stop, [&] { return pending_.has_value(); });
      if (!pending_) return;  // stopping with nothing left to write
      content = std::exchange(pending_, std::nullopt);
    }
    std::string error;
    if (!write_atomically(path_, *content, error)) log_warning("state file {}: {}", path_, error);
  }
}

bool state_file::write_atomically(const std::string& path, const std::string& content, std::string& error) {
  const std::string tmp = path + ".tmp";
  {
    fd_guard f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    if (f.fd < 0) return error = "cannot create " + tmp + ": " + errno_text(), false;
    std::size_t done = 0;
    while (done < content.size()) {
      const ssize_t n = ::write(f.fd, content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return error = "cannot write " + tmp + ": " + errno_text(), false;
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(f.fd) != 0) return error = "cannot fsync " + tmp + ": " + errno_text(), false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return error = "cannot rename " + tmp + ": " + errno_text(), false;
  // The rename itself is durable only once the directory is.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  fd_guard d{::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0) ::fsync(d.fd);
  return true;
}

std::optional<std::string> state_file::read(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno != ENOENT) error = fmt::format("cannot read {}: {}", path, errno_text());
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool state_file::prepare_directory(const std::string& dir, std::string& error) {
  std::error_code ec;
  const bool created = std::filesystem::create_directories(dir, ec);
  if (ec) return error = fmt::format("agent.state_dir {}: {}", dir, ec.message()), false;
  if (created) std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);  // state is nobody else's
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return error = fmt::format("agent.state_dir {}: not writable: {}", dir, errno_text()), false;
  return true;
}

}  // namespace galeratop
