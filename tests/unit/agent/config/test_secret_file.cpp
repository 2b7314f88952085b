#include <catch2/catch.hpp>

#include "agent/config/secret_file.hpp"

using namespace galeratop;

TEST_CASE("a secret only its owner (and group) can read is accepted") {
  CHECK_FALSE(secret_mode_problem(0100600));
  CHECK_FALSE(secret_mode_problem(0100640));
  CHECK_FALSE(secret_mode_problem(0100400));
}

TEST_CASE("a secret other users can read or write is refused, saying how to fix it") {
  auto problem = secret_mode_problem(0100644);
  REQUIRE(problem);
  CHECK(*problem == "other users can read it (mode 0644); chmod o-rwx it (0600, or 0640 for a group)");
  problem = secret_mode_problem(0100602);
  REQUIRE(problem);
  CHECK(problem->find("write or execute") != std::string::npos);
}
