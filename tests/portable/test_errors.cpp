#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/test_names.hpp"

#include <functional>
#include <limits>
#include <string>

using namespace shmkit;

namespace {

std::string what_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no shmkit::Error)";
}

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_SUITE("errors") {
  TEST_CASE("the category is shmkit's and every code has an actionable message") {
    CHECK(std::string(error_category().name()) == "shmkit");
    for (int value = static_cast<int>(errc::invalid_name);
         value <= static_cast<int>(errc::insecure_permissions); ++value) {
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

  TEST_CASE("what() says its advice once") {
    test::NameGuard guard(test::unique_name("once"));
    auto shm = NamedSharedMemory::create(guard.name(), 64);
    const std::string exists = what_of([&] { (void)NamedSharedMemory::create(guard.name(), 64); });
    CAPTURE(exists);
    CHECK(count(exists, "open_or_create") == 1);
    CHECK(exists.find("the name is taken") == std::string::npos);  // the category's text

    // One limit for every kind, whatever companions shmkit derives.
    const std::string long_name(k_max_name_length + 1, 'r');
    const std::string ring = what_of([&] { (void)Ring::create(long_name, RingRole::producer); });
    CAPTURE(ring);
    CHECK(ring.find("1-24 characters") != std::string::npos);
    const std::string server = what_of([&] { (void)Server::create(long_name); });
    CAPTURE(server);
    CHECK(server.find("1-24 characters") != std::string::npos);

    const std::string huge = what_of([&] {
      (void)NamedSharedMemory::create(guard.name() + "h", std::numeric_limits<std::size_t>::max());
    });
    CAPTURE(huge);
    CHECK(huge.find("at least 1 byte") == std::string::npos);
    CHECK(huge.find("at most") != std::string::npos);
  }

  TEST_CASE("a second server's role_taken speaks of servers, not rings") {
    test::NameGuard guard(test::unique_name("rt"));
    auto first = Server::create(guard.name());
    const std::string taken = what_of([&] { (void)Server::create(guard.name()); });
    CAPTURE(taken);
    CHECK(taken.find("server '" + guard.name() + "' already has a live server process") !=
          std::string::npos);
    CHECK(taken.find("ring") == std::string::npos);
  }

  TEST_CASE("an OS error keeps the system's own text, once") {
    const std::string missing =
        what_of([] { (void)NamedSharedMemory::open("no-such-shmkit-name"); });
    CAPTURE(missing);
    CHECK(missing.find("does not exist") != std::string::npos);
  }
}
