#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include <string>

using namespace shmkit;

TEST_SUITE("errors") {
  TEST_CASE("the category is shmkit's and every code has an actionable message") {
    CHECK(std::string(error_category().name()) == "shmkit");
    for (int value = static_cast<int>(errc::invalid_name);
         value <= static_cast<int>(errc::type_mismatch); ++value) {
      const std::string message = error_category().message(value);
      CAPTURE(value);
      CHECK(message.find(':') != std::string::npos);  // "what: what to do"
      CHECK(message.find("unknown") == std::string::npos);
    }
  }

  TEST_CASE("portable conditions compare equal to the std::errc a user would test") {
    CHECK(make_error_code(errc::already_exists) == std::errc::file_exists);
    CHECK(make_error_code(errc::not_found) == std::errc::no_such_file_or_directory);
    CHECK(make_error_code(errc::invalid_name) == std::errc::invalid_argument);
    CHECK(make_error_code(errc::backend_unavailable) == std::errc::function_not_supported);
    CHECK(make_error_code(errc::size_mismatch) != std::errc::file_exists);
  }
}
