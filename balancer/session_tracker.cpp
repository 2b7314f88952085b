#include "balancer/session_tracker.hpp"

#include <algorithm>

namespace galeratop {
namespace {
// Capability flags (MariaDB's mariadb_com.h). The extended ones sit in the handshake
// response's reserved bytes 28-31, shifted down by 32.
constexpr std::uint32_t client_compress = 1u << 5;
constexpr std::uint32_t client_protocol_41 = 1u << 9;
constexpr std::uint32_t client_ssl = 1u << 11;
constexpr std::uint32_t client_deprecate_eof = 1u << 24;
constexpr std::uint32_t client_zstd_compression = 1u << 26;
constexpr std::uint32_t mariadb_cache_metadata = 1u << (36 - 32);

// Server status flags.
constexpr std::uint16_t status_in_trans = 0x0001;
constexpr std::uint16_t status_more_results = 0x0008;
constexpr std::uint16_t status_cursor_exists = 0x0040;

constexpr std::uint32_t max_packet = 0xffffff;  // a packet this long continues in the next one

std::uint8_t byte_of(char c) { return static_cast<std::uint8_t>(c); }

std::uint32_t le(std::span<const std::uint8_t> b, std::size_t at, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint32_t>(b[at + i]) << (8 * i);
  return v;
}

/// Reads a length-encoded integer at `at`, moving `at` past it; nullopt when `b` ends first.
std::optional<std::uint64_t> lenenc(std::span<const std::uint8_t> b, std::size_t& at) {
  if (at >= b.size()) return std::nullopt;
  const std::uint8_t first = b[at++];
  std::size_t n = first < 0xfb ? 0 : first == 0xfc ? 2 : first == 0xfd ? 3 : first == 0xfe ? 8 : 0;
  if (first < 0xfb) return first;
  if (n == 0 || at + n > b.size()) return std::nullopt;  // 0xfb (NULL) and 0xff never start a count
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(b[at + i]) << (8 * i);
  at += n;
  return v;
}

/// The status flags of an OK packet (0x00, or 0xfe when it ends a result set under
/// CLIENT_DEPRECATE_EOF); nullopt when they are past the bytes kept.
std::optional<std::uint16_t> ok_status(std::span<const std::uint8_t> b) {
  std::size_t at = 1;
  if (!lenenc(b, at) || !lenenc(b, at) || at + 2 > b.size()) return std::nullopt;  // affected rows, insert id
  return static_cast<std::uint16_t>(le(b, at, 2));
}

/// The status flags of an EOF packet (0xfe, warnings, status); nullopt in the pre-4.1 form.
std::optional<std::uint16_t> eof_status(std::span<const std::uint8_t> b) {
  if (b.size() < 5) return std::nullopt;
  return static_cast<std::uint16_t>(le(b, 3, 2));
}

bool is_err(const std::span<const std::uint8_t> head) { return !head.empty() && head[0] == 0xff; }

/// MariaDB's progress report (MARIADB_CLIENT_PROGRESS): an ERR packet with code 0xffff that a long
/// ALTER or LOAD sends before its real answer.
bool is_progress(const std::span<const std::uint8_t> head) {
  return head.size() >= 3 && head[0] == 0xff && head[1] == 0xff && head[2] == 0xff;
}
}  // namespace

template <typename OnPacket>
void session_tracker::frame(stream& s, std::span<const char> bytes, OnPacket on_packet) {
  std::size_t i = 0;
  while (i < bytes.size() && phase_ != phase::opaque) {
    if (s.header_have < s.header.size()) {
      s.header[s.header_have++] = byte_of(bytes[i++]);
      if (s.header_have < s.header.size()) continue;
      s.length = le(s.header, 0, 3);
      s.seq = s.header[3];
      s.remaining = s.length;
      if (!s.continuing) {
        s.head_have = 0;
        s.total = 0;
        s.first_seq = s.seq;
      }
      if (s.remaining > 0) continue;
    } else {
      const std::size_t n = std::min<std::size_t>(s.remaining, bytes.size() - i);
      if (!s.continuing && s.head_have < s.head.size()) {
        const std::size_t keep = std::min(n, s.head.size() - s.head_have);
        std::transform(bytes.begin() + static_cast<std::ptrdiff_t>(i),
                       bytes.begin() + static_cast<std::ptrdiff_t>(i + keep), s.head.begin() + s.head_have, byte_of);
        s.head_have = static_cast<std::uint8_t>(s.head_have + keep);
      }
      i += n;
      s.remaining -= static_cast<std::uint32_t>(n);
      if (s.remaining > 0) continue;
    }
    // A part is whole: the packet is, unless this part is the longest a part can be.
    s.header_have = 0;
    s.last_seq = s.seq;
    s.total += s.length;
    s.continuing = s.length == max_packet;
    if (s.continuing) continue;
    on_packet(packet{s.first_seq, s.seq, s.total, std::span<const std::uint8_t>(s.head.data(), s.head_have)});
  }
}

std::uint32_t session_tracker::from_client(std::span<const char> bytes) {
  started_ = 0;
  frame(client_, bytes, [this](const packet& p) { client_packet(p); });
  return started_;
}

std::uint32_t session_tracker::from_server(std::span<const char> bytes) {
  ended_ = 0;
  frame(server_, bytes, [this](const packet& p) { server_packet(p); });
  return ended_;
}

bool session_tracker::in_flight() const {
  return phase_ == phase::handshake || phase_ == phase::auth || pending_count_ > 0 || uploading_ ||
         !client_.between_packets() || !server_.between_packets();
}

std::optional<std::uint8_t> session_tracker::err_sequence() const {
  if (phase_ == phase::opaque || !server_.between_packets()) return std::nullopt;
  return next_seq_;
}

void session_tracker::client_packet(const packet& p) {
  switch (phase_) {
    case phase::handshake: {
      if (p.head.size() < 4) return become_opaque();
      const std::uint32_t caps = le(p.head, 0, 4);
      // An SSLRequest (TLS follows), compression or the pre-4.1 protocol: bytes it cannot read.
      if (!(caps & client_protocol_41) || (caps & (client_ssl | client_compress | client_zstd_compression)))
        return become_opaque();
      deprecate_eof_ = caps & client_deprecate_eof;
      cache_metadata_ = p.head.size() >= 32 && (le(p.head, 28, 4) & mariadb_cache_metadata);
      phase_ = phase::auth;
      next_seq_ = static_cast<std::uint8_t>(p.last_seq + 1);
      return;
    }
    case phase::auth:  // an answer to the server's authentication switch or more-data request
      next_seq_ = static_cast<std::uint8_t>(p.last_seq + 1);
      return;
    case phase::closing:
    case phase::opaque:
      return;
    case phase::command:
      break;
  }
  const bool changing_user = pending_count_ > 0 && pending_[pending_first_].kind == reply::auth;
  if (uploading_ || changing_user) {  // the packets of a LOCAL INFILE, or the answers of COM_CHANGE_USER's exchange
    if (uploading_ && p.length == 0) uploading_ = false;
    if (pending_count_ == 1) next_seq_ = static_cast<std::uint8_t>(p.last_seq + 1);
    return;
  }
  if (p.first_seq != 0 || p.head.empty()) return become_opaque();  // a command starts its own sequence
  start_command(p.head[0], static_cast<std::uint8_t>(p.last_seq + 1));
}

void session_tracker::start_command(std::uint8_t command, std::uint8_t response_seq) {
  last_command_ = command;
  reply kind;
  switch (command) {
    case 0x01:  // COM_QUIT: the server closes without an answer
      phase_ = phase::closing;
      return;
    case 0x18:  // COM_STMT_SEND_LONG_DATA
    case 0x19:  // COM_STMT_CLOSE: no answer either
      return;
    case 0x03:  // COM_QUERY
    case 0x0a:  // COM_PROCESS_INFO
    case 0x17:  // COM_STMT_EXECUTE
    case 0xfa:  // COM_STMT_BULK_EXECUTE (MariaDB)
      kind = reply::results;
      break;
    case 0x16:  // COM_STMT_PREPARE
      kind = reply::prepare;
      break;
    case 0x04:  // COM_FIELD_LIST: column definitions, then EOF
    case 0x1c:  // COM_STMT_FETCH: rows, then EOF
      kind = reply::rows;
      break;
    case 0x11:  // COM_CHANGE_USER: an authentication exchange, like the first one
      kind = reply::auth;
      break;
    case 0x02:  // COM_INIT_DB
    case 0x05:  // COM_CREATE_DB
    case 0x06:  // COM_DROP_DB
    case 0x07:  // COM_REFRESH
    case 0x08:  // COM_SHUTDOWN
    case 0x09:  // COM_STATISTICS: one text packet
    case 0x0c:  // COM_PROCESS_KILL
    case 0x0d:  // COM_DEBUG
    case 0x0e:  // COM_PING
    case 0x1a:  // COM_STMT_RESET
    case 0x1b:  // COM_SET_OPTION
    case 0x1f:  // COM_RESET_CONNECTION
      kind = reply::one_packet;
      break;
    default:  // replication streams (COM_BINLOG_DUMP, COM_REGISTER_SLAVE) and whatever it does not know
      return become_opaque();
  }
  if (pending_count_ == max_pending) return become_opaque();
  if (pending_count_ == 0) {
    step_ = step::first;
    next_seq_ = response_seq;
  }
  pending_[(pending_first_ + pending_count_) % max_pending] = {kind, response_seq};
  ++pending_count_;
  ++started_;
}

void session_tracker::end_response() {
  pending_first_ = static_cast<std::uint8_t>((pending_first_ + 1) % max_pending);
  --pending_count_;
  ++ended_;
  step_ = step::first;
  if (pending_count_ > 0) next_seq_ = pending_[pending_first_].first_seq;
}

void session_tracker::server_packet(const packet& p) {
  const auto head = p.head;
  if (phase_ == phase::closing) return;
  if (phase_ == phase::handshake) return become_opaque();  // the server speaks out of turn
  if (phase_ == phase::command && pending_count_ == 0) {
    // An error the server sends as it closes the session (shutdown, kill) answers nothing.
    if (!is_err(head)) become_opaque();
    return;
  }
  if (p.first_seq != next_seq_) return become_opaque();
  next_seq_ = static_cast<std::uint8_t>(p.last_seq + 1);
  if (is_progress(head)) return;
  const std::uint8_t first = head.empty() ? 0 : head[0];

  if (phase_ == phase::auth) {  // OK: authenticated; ERR: the server closes; else a switch or more data
    if (first == 0x00) {
      phase_ = phase::command;
      if (auto s = ok_status(head)) in_transaction_ = *s & status_in_trans;
    } else if (first == 0xff) {
      phase_ = phase::closing;
    }
    return;
  }

  // The end of a result (an OK, or an EOF under the old protocol): the transaction flag, and
  // whether more results follow.
  auto end_of_result = [&](std::optional<std::uint16_t> status, bool more_allowed) {
    if (status) in_transaction_ = *status & status_in_trans;
    if (more_allowed && status && (*status & status_more_results))
      step_ = step::first;
    else
      end_response();
  };
  const reply kind = pending_[pending_first_].kind;
  const bool terminator = first == 0xfe && p.length < max_packet;  // a row never starts so, short of 16 MiB

  switch (kind) {
    case reply::one_packet:
      if (first == 0x00) return end_of_result(ok_status(head), false);
      if (first == 0xfe && p.length < 9) return end_of_result(eof_status(head), false);
      return end_response();  // ERR, or COM_STATISTICS's text
    case reply::auth:
      if (first == 0x00) return end_of_result(ok_status(head), false);
      if (first == 0xff) return end_response();
      return;  // a switch or more data: the client answers
    case reply::prepare:
    case reply::rows:
    case reply::results:
      break;
  }

  switch (step_) {
    case step::first:
      if (first == 0xff) return end_response();
      if (kind == reply::prepare) {
        if (first != 0x00 || head.size() < 9) return become_opaque();
        const std::uint64_t columns = le(head, 5, 2), params = le(head, 7, 2);
        left_ = params + (params && !deprecate_eof_) + columns + (columns && !deprecate_eof_);
        if (left_ == 0) return end_response();
        step_ = step::skip;
        return;
      }
      if (kind == reply::rows) {
        step_ = step::rows;
        break;  // the first packet is already a row or the end
      }
      if (first == 0x00) return end_of_result(ok_status(head), true);
      if (first == 0xfb) {  // LOCAL INFILE: the client sends the file, then the server answers
        uploading_ = true;
        return;
      }
      {
        std::size_t at = 0;
        const auto columns = lenenc(head, at);
        if (!columns || *columns == 0) return become_opaque();
        const bool metadata = !cache_metadata_ || at >= head.size() || head[at] != 0;
        left_ = metadata ? *columns : 0;
        step_ = left_ > 0 ? step::columns : deprecate_eof_ ? step::rows : step::columns_eof;
      }
      return;
    case step::columns:
      if (--left_ == 0) step_ = deprecate_eof_ ? step::rows : step::columns_eof;
      return;
    case step::columns_eof: {
      if (!terminator) return become_opaque();
      const auto status = eof_status(head);
      // A cursor (COM_STMT_EXECUTE with one): the rows come later, with COM_STMT_FETCH.
      if (status && (*status & status_cursor_exists)) return end_of_result(status, false);
      step_ = step::rows;
      return;
    }
    case step::skip:
      if (--left_ == 0) end_response();
      return;
    case step::rows:
      break;
  }
  // step::rows
  if (first == 0xff) return end_response();
  if (terminator) return end_of_result(deprecate_eof_ ? ok_status(head) : eof_status(head), kind == reply::results);
}

}  // namespace galeratop
