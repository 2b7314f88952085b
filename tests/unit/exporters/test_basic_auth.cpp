#include <catch2/catch.hpp>

#include "exporters/basic_auth.hpp"

using namespace galeratop;

namespace {
// bcrypt, cost 4 (fast tests) of "s3cret pass:word" and of "other", as htpasswd -nbB -C 4 writes them.
constexpr std::string_view prometheus_hash = "$2b$04$X/vmyEd5Jd0dxur7P42ccOz.y1i/vBxFznwn8N395O.neif/gIjPG";
constexpr std::string_view grafana_hash = "$2b$04$XJd3DuT01gTF9owXn8cKG.e8rmSyycBYsNtZOZPklYosnuD2uOA5e";

basic_auth users(std::string_view text) {
  std::string error;
  auto parsed = basic_auth::parse(text, error);
  INFO(error);
  REQUIRE(parsed);
  return *parsed;
}
}  // namespace

TEST_CASE("a Basic Authorization header gives its user and password, the password may hold a colon") {
  const auto c = basic_credentials("Basic cHJvbWV0aGV1czpzM2NyZXQgcGFzczp3b3Jk");
  REQUIRE(c);
  CHECK(c->first == "prometheus");
  CHECK(c->second == "s3cret pass:word");
  const auto padded = basic_credentials("basic  cHJvbWV0aGV1czp3cm9uZw== ");  // scheme in any case, padding
  REQUIRE(padded);
  CHECK(padded->second == "wrong");
}

TEST_CASE("other schemes, bad base64 and credentials without a colon are no credentials") {
  CHECK_FALSE(basic_credentials(""));
  CHECK_FALSE(basic_credentials("Basic"));
  CHECK_FALSE(basic_credentials("Bearer cHJvbWV0aGV1czp3cm9uZw=="));
  CHECK_FALSE(basic_credentials("Basic cHJvbWV0aGV1czp3cm9uZw="));   // not a multiple of 4
  CHECK_FALSE(basic_credentials("Basic !!!!"));
  CHECK_FALSE(basic_credentials("Basic bm9jb2xvbg=="));  // "nocolon"
}

TEST_CASE("the users file is read as htpasswd -B writes it, comments and blank lines skipped") {
  const basic_auth u = users(std::string("# scrapers\nprometheus:") + std::string(prometheus_hash) +
                             "\r\n\ngrafana:" + std::string(grafana_hash) + "\n");
  CHECK(u.size() == 2);
}

TEST_CASE("a users file that is not USER:BCRYPT lines is refused with the line") {
  std::string error;
  CHECK_FALSE(basic_auth::parse("prometheus:{SHA}abc\n", error));
  CHECK(error.starts_with("line 1: the hash of prometheus is not bcrypt"));
  CHECK_FALSE(basic_auth::parse("# none\n\nno colon here\n", error));
  CHECK(error.starts_with("line 3: expected USER:BCRYPT-HASH"));
  CHECK_FALSE(basic_auth::parse(std::string("a:") + std::string(prometheus_hash) + "\na:" +
                                    std::string(grafana_hash),
                                error));
  CHECK(error == "line 2: user a is given twice");
  CHECK_FALSE(basic_auth::parse("# only a comment\n", error));
  CHECK(error == "no user: add a USER:BCRYPT-HASH line");
}

TEST_CASE("basic auth lets in a user with its password only") {
  const basic_auth u = users(std::string("prometheus:") + std::string(prometheus_hash) + "\ngrafana:" +
                             std::string(grafana_hash) + "\n");
  CHECK(u.allows("Basic cHJvbWV0aGV1czpzM2NyZXQgcGFzczp3b3Jk"));  // prometheus:s3cret pass:word
  CHECK_FALSE(u.allows("Basic cHJvbWV0aGV1czp3cm9uZw=="));        // prometheus:wrong
  CHECK_FALSE(u.allows("Basic bm9ib2R5OnMzY3JldCBwYXNzOndvcmQ="));  // nobody:s3cret pass:word
  CHECK_FALSE(u.allows(""));
  CHECK_FALSE(u.allows("Bearer x"));
}

TEST_CASE("a $2y$ hash (PHP's and htpasswd's older name for bcrypt) is checked like $2b$") {
  std::string hash(prometheus_hash);
  hash[2] = 'y';
  const basic_auth u = users("prometheus:" + hash);
  CHECK(u.allows("Basic cHJvbWV0aGV1czpzM2NyZXQgcGFzczp3b3Jk"));
  CHECK_FALSE(u.allows("Basic cHJvbWV0aGV1czp3cm9uZw=="));
}
