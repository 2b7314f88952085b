#include "balancer/session_tracker.hpp"
#include "tests/unit/balancer/mysql_wire.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

using galeratop::session_tracker;
using namespace galeratop::test;

namespace {
/// Feeds `stream` in pieces cut at every place a cut fits: the same answers whatever the cuts.
std::uint32_t feed_cut_everywhere(session_tracker t, const std::string& stream, bool from_server,
                                  session_tracker& last) {
  std::uint32_t whole = 0;
  {
    session_tracker u = t;
    whole = from_server ? u.from_server(stream) : u.from_client(stream);
    last = u;
  }
  for (std::size_t cut = 1; cut < stream.size(); ++cut) {
    session_tracker u = t;
    const std::string a = stream.substr(0, cut), b = stream.substr(cut);
    const std::uint32_t n = from_server ? u.from_server(a) + u.from_server(b) : u.from_client(a) + u.from_client(b);
    INFO("cut at byte " << cut);
    REQUIRE(n == whole);
    REQUIRE(u.in_flight() == last.in_flight());
    REQUIRE(u.in_transaction() == last.in_transaction());
    REQUIRE(u.opaque() == last.opaque());
  }
  return whole;
}

struct recording {
  std::vector<std::pair<bool, std::string>> chunks;  // (from the server, bytes)
};

recording load(const std::string& name) {
  std::ifstream in(std::string(GALERATOP_RECORDINGS) + "/" + name + ".txt");
  REQUIRE(in.good());
  recording r;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::string data;
    for (std::size_t i = 2; i + 1 < line.size(); i += 2) data.push_back(static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16)));
    r.chunks.emplace_back(line[0] == 'S', data);
  }
  return r;
}

/// What a tracker says after each chunk of a recording.
struct trace {
  std::uint32_t started = 0, ended = 0;
  std::vector<bool> in_flight, in_transaction;
  bool opaque = false;
  bool operator==(const trace&) const = default;
};

/// Plays a recording, each chunk cut into pieces of `piece` bytes (0: whole).
trace play(const recording& r, std::size_t piece) {
  session_tracker t;
  trace out;
  for (const auto& [from_server, data] : r.chunks) {
    const std::size_t step = piece == 0 ? data.size() : piece;
    for (std::size_t at = 0; at < data.size(); at += step) {
      const std::string part = data.substr(at, step);
      if (from_server)
        out.ended += t.from_server(part);
      else
        out.started += t.from_client(part);
    }
    out.in_flight.push_back(t.in_flight());
    out.in_transaction.push_back(t.in_transaction());
  }
  out.opaque = t.opaque();
  return out;
}
}  // namespace

TEST_CASE("a query and its OK: in flight until the OK, then a safe point", "[session_tracker]") {
  session_tracker t = authenticated();
  CHECK(t.at_safe_point());
  CHECK(t.from_client(query("UPDATE t SET a = 1")) == 1);
  CHECK(t.in_flight());
  CHECK_FALSE(t.at_safe_point());
  CHECK(t.err_sequence() == 1);
  CHECK(t.from_server(ok(1, autocommit)) == 1);
  CHECK(t.at_safe_point());
}

TEST_CASE("the authentication is in flight until the server's OK, and an ERR there ends the session", "[session_tracker]") {
  session_tracker t;
  CHECK(t.in_flight());
  t.from_client(handshake_response(protocol_41));
  CHECK_FALSE(t.at_safe_point());
  t.from_server(packet(2, "\xfe" "mysql_native_password" + std::string(1, '\0') + "12345678901234567890"));  // switch
  t.from_client(packet(3, std::string(20, 'x')));
  CHECK(t.in_flight());
  t.from_server(ok(4, autocommit));
  CHECK(t.at_safe_point());

  session_tracker refused;
  refused.from_client(handshake_response(protocol_41));
  refused.from_server(err(2, 1045));
  CHECK(refused.quitting());
  CHECK_FALSE(refused.in_flight());
}

TEST_CASE("an open transaction is no safe point, whatever the statement in flight", "[session_tracker]") {
  session_tracker t = authenticated();
  t.from_client(query("BEGIN"));
  t.from_server(ok(1, in_trans | autocommit));
  CHECK(t.in_transaction());
  CHECK_FALSE(t.in_flight());
  CHECK_FALSE(t.at_safe_point());
  t.from_client(query("INSERT"));
  t.from_server(err(1, 1213));  // an ERR carries no status: the transaction is as it was
  CHECK(t.in_transaction());
  t.from_client(query("COMMIT"));
  t.from_server(ok(1, autocommit));
  CHECK(t.at_safe_point());
}

TEST_CASE("text result sets end at their last EOF or OK, with EOF packets or without", "[session_tracker]") {
  for (bool eofs : {true, false}) {
    session_tracker t = authenticated(eofs ? protocol_41 : protocol_41 | deprecate_eof);
    t.from_client(query("SELECT a FROM t"));
    session_tracker after;
    CHECK(feed_cut_everywhere(t, text_result(eofs, 3, autocommit), true, after) == 1);
    CHECK(after.at_safe_point());
    // Its last packet but one is not the end: still in flight there.
    const std::string whole = text_result(eofs, 3, autocommit);
    session_tracker partial = t;
    CHECK(partial.from_server(whole.substr(0, whole.size() - 5)) == 0);
    CHECK(partial.in_flight());
  }
}

TEST_CASE("multi-statements and a procedure's results end with the result that has no more-results flag", "[session_tracker]") {
  session_tracker t = authenticated();
  t.from_client(query("SELECT 1; SELECT 2; UPDATE t SET a = 1"));
  std::string first = text_result(false, 1, autocommit | more_results);
  session_tracker u = t;
  CHECK(u.from_server(first) == 0);
  CHECK(u.in_flight());
  // Each result starts its packets where the last one stopped.
  std::string rest = packet(5, "\x01") + column_def(6) + text_row(7, "2") +
                     ok(8, autocommit | more_results, static_cast<char>(0xfe)) + ok(9, autocommit);
  session_tracker after;
  CHECK(feed_cut_everywhere(u, rest, true, after) == 1);
  CHECK(after.at_safe_point());
}

TEST_CASE("an ERR ends a response, also in the middle of a result set", "[session_tracker]") {
  session_tracker t = authenticated();
  t.from_client(query("SELECT a FROM t"));
  CHECK(t.from_server(packet(1, "\x01") + column_def(2) + text_row(3, "x") + err(4, 1317)) == 1);
  CHECK(t.at_safe_point());
}

TEST_CASE("MariaDB's progress reports are not the end of a response", "[session_tracker]") {
  session_tracker t = authenticated();
  t.from_client(query("ALTER TABLE t FORCE"));
  CHECK(t.from_server(packet(1, bytes({0xff, 0xff, 0xff, 1, 1, 0, 0, 0, 0}) + "stage")) == 0);
  CHECK(t.in_flight());
  CHECK(t.from_server(ok(2, autocommit)) == 1);
}

TEST_CASE("LOAD DATA LOCAL INFILE: the client's file is part of the command, the OK after it ends it", "[session_tracker]") {
  session_tracker t = authenticated();
  t.from_client(query("LOAD DATA LOCAL INFILE 'f' INTO TABLE t"));
  t.from_server(packet(1, "\xfb" "f"));
  CHECK(t.in_flight());
  CHECK(t.from_client(packet(2, "1,a\n2,b\n") + packet(3, "3,c\n")) == 0);  // not commands
  CHECK(t.in_flight());
  CHECK(t.from_client(packet(4, "")) == 0);
  CHECK(t.err_sequence() == 5);
  CHECK(t.from_server(ok(5, autocommit)) == 1);
  CHECK(t.at_safe_point());
}

TEST_CASE("prepared statements: the prepare's definitions, a binary result, with and without cached metadata", "[session_tracker]") {
  for (bool cached : {false, true}) {
    session_tracker t = authenticated(protocol_41 | deprecate_eof, cached ? cache_metadata_ext : 0);
    t.from_client(packet(0, "\x16" "SELECT a FROM t WHERE id = ?"));
    // PREPARE_OK: statement 1, one column, one parameter; then their definitions (no EOFs).
    const std::string prepare_ok = packet(1, bytes({0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0}));
    session_tracker after;
    CHECK(feed_cut_everywhere(t, prepare_ok + column_def(2) + column_def(3), true, after) == 1);
    REQUIRE(after.at_safe_point());
    t = after;
    t.from_client(packet(0, "\x17" + le32(1) + bytes({0}) + le32(1) + bytes({0, 1, 3, 0}) + le32(7)));
    // The column count, then (unless the client caches them) the column, then binary rows.
    std::string result = cached ? packet(1, bytes({1, 0})) : packet(1, bytes({1})) + column_def(2);
    std::uint8_t seq = cached ? 2 : 3;
    result += packet(seq++, bytes({0, 0, 7, 0, 0, 0}));  // a binary row starts with 0x00
    result += ok(seq++, autocommit, static_cast<char>(0xfe));
    CHECK(feed_cut_everywhere(t, result, true, after) == 1);
    CHECK(after.at_safe_point());
  }
}

TEST_CASE("a cursor's execute ends after the metadata and its rows come with COM_STMT_FETCH", "[session_tracker]") {
  session_tracker t = authenticated(protocol_41);  // with EOF packets
  t.from_client(packet(0, "\x17" + le32(1) + bytes({1}) + le32(1)));
  CHECK(t.from_server(packet(1, "\x01") + column_def(2) + eof(3, autocommit | cursor_exists)) == 1);
  CHECK(t.at_safe_point());
  t.from_client(packet(0, "\x1c" + le32(1) + le32(10)));
  CHECK(t.from_server(packet(1, bytes({0, 0, 7, 0, 0, 0})) + eof(2, autocommit | 0x80)) == 1);
  CHECK(t.at_safe_point());
}

TEST_CASE("commands without an answer: COM_STMT_CLOSE and SEND_LONG_DATA are not in flight, COM_QUIT quits", "[session_tracker]") {
  session_tracker t = authenticated();
  CHECK(t.from_client(packet(0, "\x19" + le32(1))) == 0);
  CHECK(t.from_client(packet(0, "\x18" + le32(1) + bytes({0, 0}) + "data")) == 0);
  CHECK(t.at_safe_point());
  CHECK(t.from_client(packet(0, "\x01")) == 0);
  CHECK(t.quitting());
  CHECK_FALSE(t.in_flight());
}

TEST_CASE("pipelined commands are answered in order", "[session_tracker]") {
  session_tracker t = authenticated();
  CHECK(t.from_client(query("SELECT 1") + query("DO 1") + packet(0, "\x0e")) == 3);
  CHECK(t.commands_in_flight() == 3);
  CHECK(t.from_server(text_result(false, 1, autocommit)) == 1);
  CHECK(t.err_sequence() == 1);  // the next response starts its own sequence
  CHECK(t.from_server(ok(1, autocommit) + ok(1, autocommit)) == 2);
  CHECK(t.at_safe_point());
  CHECK(t.last_command() == 0x0e);
}

TEST_CASE("COM_CHANGE_USER's exchange is one command however many packets it takes", "[session_tracker]") {
  session_tracker t = authenticated();
  CHECK(t.from_client(packet(0, "\x11" "other" + std::string(1, '\0'))) == 1);
  t.from_server(packet(1, "\xfe" "mysql_native_password" + std::string(1, '\0') + "12345678901234567890"));
  CHECK(t.from_client(packet(2, std::string(20, 'x'))) == 0);
  CHECK(t.from_server(ok(3, autocommit)) == 1);
  CHECK(t.at_safe_point());
}

TEST_CASE("a packet of 16 MiB or more is one packet, whatever its parts look like", "[session_tracker]") {
  session_tracker t = authenticated();
  t.from_client(query("SELECT big"));
  t.from_server(packet(1, "\x01") + column_def(2));
  // A row of 0xffffff bytes whose continuation starts like an EOF: it is data, not the end.
  std::string part(0xffffff, 'x');
  std::string row;
  row += bytes({0xff, 0xff, 0xff, 3});
  row += part;
  CHECK(t.from_server(row) == 0);
  CHECK(t.from_server(packet(4, bytes({0xfe, 0, 0, 2, 0}))) == 0);  // the row's last part
  CHECK(t.in_flight());
  CHECK(t.from_server(ok(5, autocommit, static_cast<char>(0xfe))) == 1);
  CHECK(t.at_safe_point());
}

TEST_CASE("what it cannot follow is opaque for good: TLS, compression, unknown commands, packets out of order", "[session_tracker]") {
  session_tracker tls;
  tls.from_client(packet(1, le32(protocol_41 | ssl) + le32(1 << 24) + "\x21" + std::string(23, '\0')));
  CHECK(tls.opaque());
  tls.from_client("\x16\x03\x01 random TLS bytes");
  CHECK(tls.opaque());
  CHECK_FALSE(tls.err_sequence());

  session_tracker compressed;
  compressed.from_client(handshake_response(protocol_41 | compress));
  CHECK(compressed.opaque());

  session_tracker unknown = authenticated();
  unknown.from_client(packet(0, "\x12" + le32(4)));  // COM_BINLOG_DUMP: a replication stream
  CHECK(unknown.opaque());

  session_tracker out_of_order = authenticated();
  out_of_order.from_client(query("SELECT 1"));
  out_of_order.from_server(ok(3, autocommit));
  CHECK(out_of_order.opaque());
  CHECK_FALSE(out_of_order.at_safe_point());
}

TEST_CASE("an error the server sends as it closes a session answers nothing", "[session_tracker]") {
  session_tracker t = authenticated();
  CHECK(t.from_server(err(0, 1927)) == 0);
  CHECK_FALSE(t.opaque());
}

TEST_CASE("no ERR fits while a server packet is cut in half", "[session_tracker]") {
  session_tracker t = authenticated();
  t.from_client(query("SELECT a FROM t"));
  t.from_server(packet(1, "\x01").substr(0, 3));
  CHECK_FALSE(t.err_sequence());
  t.from_server(packet(1, "\x01").substr(3) + column_def(2));
  CHECK(t.err_sequence() == 3);
}

TEST_CASE("recorded sessions of real clients are followed to their end, however the bytes are cut", "[session_tracker]") {
  for (const char* name : {"mariadb_cli", "pymysql", "sysbench_ps"}) {
    INFO(name);
    const recording r = load(name);
    const trace whole = play(r, 0);
    CHECK_FALSE(whole.opaque);
    CHECK(whole.started > 10);
    CHECK(whole.started == whole.ended);  // every answered command it saw begin, it saw end
    CHECK_FALSE(whole.in_flight.back());
    CHECK_FALSE(whole.in_transaction.back());
    // Cut into small pieces, the bytes must give the same answers after every chunk.
    for (std::size_t piece : {1, 2, 3, 5, 7, 64, 1000}) {
      INFO("pieces of " << piece << " bytes");
      CHECK(play(r, piece) == whole);
    }
  }
}
