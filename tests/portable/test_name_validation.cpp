#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/test_names.hpp"

#include <string>

using namespace shmkit;

TEST_SUITE("names") {
  TEST_CASE("valid names are 1-24 characters of [A-Za-z0-9._-]") {
    CHECK(is_valid_name("a"));
    CHECK(is_valid_name("spooler"));
    CHECK(is_valid_name("My.Segment_01-x"));
    CHECK(is_valid_name(std::string(24, 'x')));
  }

  TEST_CASE("invalid names are rejected before any OS call") {
    for (const char* bad : {"", "/slash", "a/b", "sp ace", "tab\t", "ümlaut", ".", "..",
                            "back\\slash", "Global\\x", "colon:", "star*", "sem.x"}) {
      const std::string bad_name = bad;
      CAPTURE(bad_name);
      CHECK_FALSE(is_valid_name(bad));
      std::error_code ec;
      validate_name(bad, ec);
      CHECK(ec == errc::invalid_name);
    }
    CHECK_FALSE(is_valid_name(std::string(25, 'x')));
  }

  TEST_CASE("every operation reports an invalid name with the rule in the message") {
    for (Backend backend : test::segment_backends()) {
      SegmentOptions options;
      options.backend = backend;
      std::error_code ec;
      auto shm = NamedSharedMemory::create("bad/name", 64, options, ec);
      CHECK(ec == errc::invalid_name);
      CHECK_FALSE(shm.is_open());
      (void)NamedSharedMemory::open("", options, ec);
      CHECK(ec == errc::invalid_name);
      CHECK_FALSE(NamedSharedMemory::remove(std::string(25, 'y'), options, ec));
      CHECK(ec == errc::invalid_name);
      try {
        (void)NamedSharedMemory::open_or_create("no spaces", 64, options);
        FAIL("expected an exception");
      } catch (const std::system_error& e) {
        CHECK(e.code() == errc::invalid_name);
        CHECK(std::string(e.what()).find("1-24 characters") != std::string::npos);
      }
    }
  }

  TEST_CASE("an invalid name is shown with its control bytes escaped") {
    try {
      (void)NamedSharedMemory::open(std::string("esc\x1b[31mRED\nx\xff"));
      FAIL("expected an exception");
    } catch (const std::system_error& e) {
      const std::string what = e.what();
      CHECK(what.find("'esc\\x1b[31mRED\\x0ax\\xff'") != std::string::npos);
      CHECK(what.find('\x1b') == std::string::npos);
      CHECK(what.find('\n') == std::string::npos);
    }
  }
}
