#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

namespace galeratop {

/// One file in the state directory, replaced atomically (write a temporary,
/// fsync, rename, fsync the directory) so that a crash leaves either the old
/// or the new content, never a torn one. Writes happen on a thread of their
/// own: the io thread only hands the latest content over and never waits for a disk.
class state_file {
 public:
  explicit state_file(std::string path);
  /// Writes what is still pending, then stops.
  ~state_file();
  state_file(const state_file&) = delete;
  state_file& operator=(const state_file&) = delete;

  /// Schedules `content` to be written; a newer store replaces a pending one.
  void store(std::string content);

  /// Writes `content` to `path` atomically and durably now, on the calling thread; false with `error`.
  static bool write_atomically(const std::string& path, const std::string& content, std::string& error);

  /// Reads the file; nullopt when it does not exist (error empty) or cannot be read (error set).
  static std::optional<std::string> read(const std::string& path, std::string& error);

  /// Creates `dir` (mode 0700, parents too) unless it exists; false with `error` when it cannot be written.
  static bool prepare_directory(const std::string& dir, std::string& error);

 private:
  void run(std::stop_token stop);

  std::string path_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::optional<std::string> pending_;  // guarded by mutex_
  std::jthread thread_;                  // last: started once the rest exists
};

}  // namespace galeratop
