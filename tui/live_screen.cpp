#include "tui/live_screen.hpp"

#include <csignal>
#include <fmt/format.h>
#include <memory>
#include <optional>

#include "agent/version.hpp"
#include "tui/control_client.hpp"
#include "tui/key_map.hpp"
#include "tui/screen_layout.hpp"
#include "tui/terminal.hpp"
#include "tui/writer_text.hpp"

namespace galeratop {
namespace {
using json = nlohmann::json;
using namespace std::chrono_literals;

volatile std::sig_atomic_t stop_signal = 0;
extern "C" void on_stop_signal(int signo) { stop_signal = signo; }

constexpr auto request_timeout = 2s;  // the screen must not freeze long on a hung agent
// An admin key is answered once the cluster has the change (shared intents), which takes
// galeratopd up to 3 s when a node stops answering; the operator has just asked, and waits as the CLI does.
constexpr auto admin_timeout = 5s;
constexpr auto reconnect_every = 1s;
constexpr auto key_wait = 50ms;

/// One line about the agent's answer to an admin key.
std::string describe(const json& req, const json& answer) {
  if (!answer.value("ok", false)) {
    const json e = answer.value("error", json::object());
    return fmt::format("[{}] {}", e.value("code", "?"), e.value("message", "refused"));  // the code first: it survives a cut
  }
  if (req.value("cmd", "") == "writer") return writer_answer_text(answer);
  const json n = answer.value("node", json::object());
  return fmt::format("{} {}: {} (was {}), {} connection(s) open{}", req.value("cmd", ""), n.value("name", ""),
                     n.value("admin", ""), n.value("previous_admin", ""), n.value("connections", 0),
                     answer.contains("warning") ? "; held on this agent only: the cluster cannot be written" : "");
}

class live_screen {
 public:
  explicit live_screen(const live_options& o) : o_(o), term_(o.colour) {
    view_.interval = o.interval;
    view_.readonly = o.readonly;
    view_.ascii = !term_.utf8();
    view_.disconnected_since = screen_clock::now();
    view_.disconnect_reason = "connecting";
  }

  int run() {
    for (;;) {
      if (stop_signal) return 0;
      const auto now = screen_clock::now();
      if (!client_ && now - last_attempt_ >= reconnect_every) connect(now);
      receive(now);
      const key k = term_.read_key(key_wait);
      if (k.kind != key::none) {
        reaction r = handle_key(view_, k, shown_);
        if (r.quit) return 0;
        if (r.request) send(*r.request);
        if (r.resubscribe) subscribe();
        if (!view_.paused && latest_.is_object()) shown_ = latest_;
      }
      term_.draw(layout_screen(shown_, view_, term_.width(), term_.height(), screen_clock::now(), version));
    }
  }

 private:
  void connect(screen_clock::time_point now) {
    last_attempt_ = now;
    try {
      client_ = std::make_unique<control_client>(o_.control, o_.token, request_timeout, o_.tls);
      subscribe();
    } catch (const control_unavailable& e) {
      lost(e.what());
    }
  }

  void subscribe() {
    if (!client_) return;
    try {
      json answer = client_->request({{"cmd", "subscribe"}, {"interval_ms", interval_ms()}});
      if (!answer.value("ok", false)) throw control_unavailable(answer.value("error", json::object()).value("message", "refused"));
      if (!view_.connected) view_.message.clear();
      view_.connected = true;
      take(answer.at("status"), screen_clock::now());
    } catch (const std::exception& e) {
      lost(e.what());
    }
  }

  long interval_ms() const { return static_cast<long>(view_.interval.count()); }

  void receive(screen_clock::time_point now) {
    if (!client_) return;
    try {
      while (auto event = client_->next_event(1ms)) take(event->at("status"), now);
    } catch (const std::exception& e) {
      lost(e.what());
    }
  }

  void take(const json& status, screen_clock::time_point now) {
    latest_ = status;
    record_status(view_, status, now);
    if (!view_.paused) shown_ = latest_;
  }

  void send(const json& req) {
    if (!client_) {
      view_.message = "not connected: the request was not sent";
      view_.message_is_error = true;
      return;
    }
    try {
      const json answer = client_->request(req, admin_timeout);
      view_.message = describe(req, answer);
      view_.message_is_error = !answer.value("ok", false);
    } catch (const std::exception& e) {
      lost(e.what());
    }
  }

  void lost(const std::string& why) {
    client_.reset();
    if (view_.connected) view_.disconnected_since = screen_clock::now();
    view_.connected = false;
    view_.disconnect_reason = why;
  }

  live_options o_;
  terminal term_;
  view_state view_;
  std::unique_ptr<control_client> client_;
  screen_clock::time_point last_attempt_{};
  json latest_;  // the newest status
  json shown_;   // what is drawn: the newest, unless paused
};
}  // namespace

int run_live_screen(const live_options& o) {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);  // the terminal went away
  std::signal(SIGPIPE, SIG_IGN);
  live_screen screen(o);  // its terminal is given back when it goes out of scope, however that happens
  return screen.run();
}

}  // namespace galeratop
