#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace galeratop {

/// Follows one relayed MySQL session from the client's handshake response on, from the bytes
/// alone: packet framing both ways, the commands in flight and where each response ends, and
/// the server's transaction flags. Pure: it sees copies of the bytes the relay passes on and
/// never changes them, so a session it cannot follow is still relayed, only marked opaque.
///
/// Opaque, from then on: TLS after an SSLRequest, compression, the old protocol, replication
/// streams, an unknown command, a packet out of sequence, more pipelined commands than it keeps.
class session_tracker {
 public:
  /// Takes bytes the client sent on to the server; returns how many answered commands began in them.
  std::uint32_t from_client(std::span<const char> bytes);
  /// Takes bytes the server sent on to the client; returns how many responses ended in them.
  std::uint32_t from_server(std::span<const char> bytes);

  /// It cannot follow this session (the reason is in the class comment); final.
  bool opaque() const { return phase_ == phase::opaque; }
  /// The client quit (COM_QUIT) or its authentication failed: the server ends the session next.
  bool quitting() const { return phase_ == phase::closing; }
  /// The command byte of the last command the client sent (COM_PING is 0x0e); 0 before the first.
  std::uint8_t last_command() const { return last_command_; }
  /// Answered commands sent and not yet wholly answered.
  std::uint32_t commands_in_flight() const { return pending_count_; }
  /// The server's last status said a transaction is open (SERVER_STATUS_IN_TRANS).
  bool in_transaction() const { return in_transaction_; }
  /// A command, or the authentication, is unfinished: sent (wholly or in part) and not wholly answered.
  bool in_flight() const;
  /// Nothing is in flight, no transaction is open, and the session is past its authentication:
  /// the server may be closed now without the client losing anything but the session itself.
  bool at_safe_point() const { return phase_ == phase::command && !in_flight() && !in_transaction_; }
  /// The sequence id an ERR packet written to the client now, in place of the rest of a response,
  /// must carry; nullopt when the client's stream is in the middle of a server packet (or opaque),
  /// so that no packet can be written to it.
  std::optional<std::uint8_t> err_sequence() const;
  /// The sequence id of the last whole packet the client sent (to answer it with an ERR).
  std::uint8_t last_client_sequence() const { return client_.last_seq; }

 private:
  /// One direction's packet framing: where the current packet is, and its first bytes.
  struct stream {
    std::array<std::uint8_t, 4> header{};
    std::uint8_t header_have = 0;
    std::uint32_t remaining = 0;   ///< payload bytes of the current packet still to come
    std::uint32_t length = 0;      ///< payload length of the current packet
    std::uint8_t seq = 0;          ///< of the current packet
    std::uint8_t last_seq = 0;     ///< of the last whole packet
    std::array<std::uint8_t, 40> head{};  ///< the first bytes of the current logical packet
    std::uint8_t head_have = 0;
    std::uint8_t first_seq = 0;   ///< of the current logical packet's first part
    std::uint64_t total = 0;      ///< payload bytes of the current logical packet so far
    bool continuing = false;  ///< the current packet continues the previous one (that was 0xffffff long)
    bool between_packets() const { return header_have == 0 && remaining == 0 && !continuing; }
  };
  /// A whole logical packet: the sequence ids of its first and last parts (a packet of 16 MiB or
  /// more comes in parts), its whole length, and its first bytes.
  struct packet {
    std::uint8_t first_seq;
    std::uint8_t last_seq;
    std::uint64_t length;
    std::span<const std::uint8_t> head;
  };
  enum class phase : std::uint8_t { handshake, auth, command, closing, opaque };
  /// What the response to a command is made of.
  enum class reply : std::uint8_t { one_packet, results, prepare, rows, auth };
  /// Where the response at the front of the queue is.
  enum class step : std::uint8_t { first, columns, columns_eof, rows, skip };

  template <typename OnPacket>
  void frame(stream& s, std::span<const char> bytes, OnPacket on_packet);
  void client_packet(const packet& p);
  void server_packet(const packet& p);
  void start_command(std::uint8_t command, std::uint8_t response_seq);
  void end_response();
  void become_opaque() { phase_ = phase::opaque; }

  stream client_, server_;
  phase phase_ = phase::handshake;
  bool deprecate_eof_ = false;    ///< CLIENT_DEPRECATE_EOF: no EOF packets, results end with an OK
  bool cache_metadata_ = false;   ///< MARIADB_CLIENT_CACHE_METADATA: a flag byte after each column count
  bool in_transaction_ = false;
  bool uploading_ = false;        ///< the client sends a LOCAL INFILE's contents, until an empty packet
  std::uint8_t last_command_ = 0;
  std::uint8_t next_seq_ = 0;     ///< the sequence id of the next packet of the current command, either way

  /// A command sent and not yet wholly answered.
  struct pending {
    reply kind;
    std::uint8_t first_seq;  ///< of its response's first packet
  };
  /// Oldest first: clients may pipeline a few commands.
  static constexpr std::size_t max_pending = 16;
  std::array<pending, max_pending> pending_{};
  std::uint8_t pending_first_ = 0, pending_count_ = 0;
  step step_ = step::first;      ///< of the response at the front
  std::uint64_t left_ = 0;       ///< packets still to come in step columns or skip
  std::uint32_t started_ = 0, ended_ = 0;  ///< counted during one from_client / from_server call
};

}  // namespace galeratop
