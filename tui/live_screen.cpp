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
    for (const std::string& control : o.controls) links_.emplace_back(control);
    if (links_.size() > 1)
      for (const link& l : links_) view_.agents.push_back({.control = l.control, .connected = false, .status = nullptr});
    show(0);
  }

  int run() {
    for (;;) {
      if (stop_signal) return 0;
      const auto now = screen_clock::now();
      for (std::size_t i = 0; i < links_.size(); ++i) {
        if (!links_[i].client && now - links_[i].last_attempt >= reconnect_every) connect(i, now);
        receive(i, now);
      }
      const key k = term_.read_key(key_wait);
      if (k.kind != key::none) {
        reaction r = handle_key(view_, k, shown_);
        if (r.quit) return 0;
        if (r.request) send(*r.request);
        if (r.resubscribe)
          for (std::size_t i = 0; i < links_.size(); ++i) subscribe(i);
        if (r.next_agent) show((view_.focus + 1) % links_.size());
        if (!view_.paused && links_[view_.focus].latest.is_object()) shown_ = links_[view_.focus].latest;
      }
      term_.draw(layout_screen(shown_, view_, term_.width(), term_.height(), screen_clock::now(), version));
    }
  }

 private:
  /// One agent the screen follows. The view's connection fields and node histories are the
  /// shown agent's; each link keeps its own, handed to the view when it is shown.
  struct link {
    explicit link(std::string c) : control(std::move(c)) {}
    std::string control;
    std::unique_ptr<control_client> client;
    screen_clock::time_point last_attempt{};
    json latest;  // its newest status
    bool connected = false;
    std::string disconnect_reason = "connecting";
    screen_clock::time_point disconnected_since = screen_clock::now();
    node_histories history;  // while another agent is shown
  };

  /// Shows agent `i`: its status, connection state and histories go to the view.
  void show(std::size_t i) {
    if (i != view_.focus) links_[view_.focus].history = std::move(view_.history);
    view_.focus = i;
    link& l = links_[i];
    view_.history = std::move(l.history);
    view_.connected = l.connected;
    view_.disconnect_reason = l.disconnect_reason;
    view_.disconnected_since = l.disconnected_since;
    shown_ = l.latest;
    if (links_.size() > 1) view_.message = fmt::format("agent [{}] {}", i + 1, l.control);
  }

  node_histories& history_of(std::size_t i) { return i == view_.focus ? view_.history : links_[i].history; }

  void connect(std::size_t i, screen_clock::time_point now) {
    link& l = links_[i];
    l.last_attempt = now;
    try {
      l.client = std::make_unique<control_client>(l.control, o_.token, request_timeout, o_.tls);
      subscribe(i);
    } catch (const control_unavailable& e) {
      lost(i, e.what());
    }
  }

  void subscribe(std::size_t i) {
    link& l = links_[i];
    if (!l.client) return;
    try {
      json answer = l.client->request({{"cmd", "subscribe"}, {"interval_ms", interval_ms()}});
      if (!answer.value("ok", false)) throw control_unavailable(answer.value("error", json::object()).value("message", "refused"));
      if (i == view_.focus && !view_.connected) view_.message.clear();
      set_connected(i, true, {});
      take(i, answer.at("status"), screen_clock::now());
    } catch (const std::exception& e) {
      lost(i, e.what());
    }
  }

  long interval_ms() const { return static_cast<long>(view_.interval.count()); }

  void receive(std::size_t i, screen_clock::time_point now) {
    link& l = links_[i];
    if (!l.client) return;
    try {
      while (auto event = l.client->next_event(1ms)) take(i, event->at("status"), now);
    } catch (const std::exception& e) {
      lost(i, e.what());
    }
  }

  void take(std::size_t i, const json& status, screen_clock::time_point now) {
    link& l = links_[i];
    l.latest = status;
    record_status(history_of(i), status, now);
    if (!view_.agents.empty()) view_.agents[i].status = status;
    if (i == view_.focus && !view_.paused) shown_ = l.latest;
  }

  void send(const json& req) {
    link& l = links_[view_.focus];  // the admin keys ask the agent shown
    if (!l.client) {
      view_.message = "not connected: the request was not sent";
      view_.message_is_error = true;
      return;
    }
    try {
      const json answer = l.client->request(req, admin_timeout);
      view_.message = describe(req, answer);
      if (links_.size() > 1) view_.message = fmt::format("[{}] {}", view_.focus + 1, view_.message);
      view_.message_is_error = !answer.value("ok", false);
    } catch (const std::exception& e) {
      lost(view_.focus, e.what());
    }
  }

  void lost(std::size_t i, const std::string& why) {
    links_[i].client.reset();
    set_connected(i, false, why);
  }

  void set_connected(std::size_t i, bool connected, const std::string& why) {
    link& l = links_[i];
    if (l.connected && !connected) l.disconnected_since = screen_clock::now();
    l.connected = connected;
    if (!connected) l.disconnect_reason = why;
    if (!view_.agents.empty()) view_.agents[i].connected = connected;
    if (i != view_.focus) return;
    view_.connected = l.connected;
    view_.disconnect_reason = l.disconnect_reason;
    view_.disconnected_since = l.disconnected_since;
  }

  live_options o_;
  terminal term_;
  view_state view_;
  std::vector<link> links_;
  json shown_;  // what is drawn: the shown agent's newest status, unless paused
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
