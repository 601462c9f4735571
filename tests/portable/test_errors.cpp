#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/test_names.hpp"

#include <functional>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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

// The sentence the throwing form carries, and the code and error_message()
// its error_code twin gives, for one failing call.
struct BothPaths {
  std::string what;
  std::error_code ec;
  std::string message;
};

template <typename Throwing, typename WithCode>
BothPaths both_paths(Throwing throwing, WithCode with_code) {
  BothPaths paths;
  paths.what = what_of([&] { (void)throwing(); });
  (void)with_code(paths.ec);
  paths.message = error_message(paths.ec);
  return paths;
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
         value <= static_cast<int>(errc::invalid_state); ++value) {
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
    const std::string ring = what_of([&] { (void)RingProducer::create(long_name); });
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

  TEST_CASE("error_message(ec) gives the sentence the throwing form carries") {
    test::NameGuard guard(test::unique_name("em"));
    auto taken = NamedSharedMemory::create(guard.name(), 64);
    const std::string missing = guard.name() + "m";
    const std::string mutex_name = guard.name() + "x";
    guard.add(mutex_name);
    auto mutex = NamedMutex::create(mutex_name);
    NamedSharedMemory empty;

    // One failure of each class: a taken name, a missing object (an OS
    // error on some backends), arguments, a wrong kind, a bad name, the
    // lifecycle API, another class, and misuse of a handle.
    const std::vector<std::pair<const char*, BothPaths>> cases = {
        {"already_exists", both_paths([&] { return NamedSharedMemory::create(guard.name(), 64); },
                                      [&](std::error_code& ec) {
                                        return NamedSharedMemory::create(guard.name(), 64, {}, ec);
                                      })},
        {"not_found",
         both_paths([&] { return NamedSharedMemory::open(missing); },
                    [&](std::error_code& ec) { return NamedSharedMemory::open(missing, {}, ec); })},
        {"invalid_size", both_paths([&] { return NamedSharedMemory::create(missing, 0); },
                                    [&](std::error_code& ec) {
                                      return NamedSharedMemory::create(missing, 0, {}, ec);
                                    })},
        {"size_mismatch",
         both_paths([&] { return NamedSharedMemory::open_or_create(guard.name(), 128); },
                    [&](std::error_code& ec) {
                      return NamedSharedMemory::open_or_create(guard.name(), 128, {}, ec);
                    })},
        {"wrong_kind", both_paths([&] { return NamedSharedMemory::open(mutex_name); },
                                  [&](std::error_code& ec) {
                                    return NamedSharedMemory::open(mutex_name, {}, ec);
                                  })},
        {"invalid_name", both_paths([&] { return NamedSharedMemory::exists("no spaces"); },
                                    [&](std::error_code& ec) {
                                      return NamedSharedMemory::exists("no spaces", {}, ec);
                                    })},
        {"inspect",
         both_paths([&] { return inspect_segment(missing); },
                    [&](std::error_code& ec) { return inspect_segment(missing, {}, ec); })},
        {"mutex",
         both_paths([&] { return NamedMutex::create(mutex_name); },
                    [&](std::error_code& ec) { return NamedMutex::create(mutex_name, {}, ec); })},
        {"invalid_state",
         both_paths([&] { return empty.attached_processes(); },
                    [&](std::error_code& ec) { return empty.attached_processes(ec); })},
    };
    for (const auto& [label, paths] : cases) {
      CAPTURE(label);
      CAPTURE(paths.what);
      REQUIRE(paths.ec);
      CHECK(paths.message == paths.what);
      // The sentence, not the category's generic text.
      CHECK(paths.message != paths.ec.message());
    }
    CHECK(cases[0].second.ec == errc::already_exists);
    CHECK(cases[2].second.ec == errc::invalid_size);
    CHECK(cases[3].second.ec == errc::size_mismatch);
    CHECK(cases[4].second.ec == errc::wrong_kind);
    CHECK(cases[5].second.ec == errc::invalid_name);
    CHECK(cases[8].second.ec == errc::invalid_state);
  }

  TEST_CASE("error_message(ec) falls back to ec.message() for any code it did not just report") {
    test::NameGuard guard(test::unique_name("ef"));
    auto taken = NamedSharedMemory::create(guard.name(), 64);

    std::error_code first;
    (void)NamedSharedMemory::create(guard.name(), 64, {}, first);
    REQUIRE(first == errc::already_exists);
    REQUIRE(error_message(first) != first.message());

    // A later, unrelated failure replaces the record: the earlier code gets
    // its category's text, the later one its own sentence.
    std::error_code second;
    (void)NamedSharedMemory::create(guard.name() + "z", 0, {}, second);
    REQUIRE(second == errc::invalid_size);
    CHECK(error_message(first) == first.message());
    CHECK(error_message(second).find(guard.name() + "z") != std::string::npos);

    // A code that shmkit did not produce, even one that compares equal to
    // the same condition.
    const std::error_code foreign = std::make_error_code(std::errc::invalid_argument);
    CHECK(error_message(foreign) == foreign.message());
    CHECK(error_message(std::error_code(static_cast<int>(errc::invalid_size), error_category())) ==
          error_message(second));  // keyed by the code alone: an equal code gets the sentence

    // A success forgets the sentence: it is not given later for the same
    // code from another source, and the success's own cleared code has none.
    std::error_code ok;
    CHECK(NamedSharedMemory::exists(guard.name(), {}, ok));
    CHECK_FALSE(ok);
    CHECK(error_message(ok).empty());
    CHECK(error_message(second) == second.message());

    // The record is per thread: another thread's failure is not this one's.
    std::error_code elsewhere;
    std::thread([&] { (void)NamedSharedMemory::create(guard.name(), 64, {}, elsewhere); }).join();
    REQUIRE(elsewhere == errc::already_exists);
    CHECK(error_message(elsewhere) == elsewhere.message());
  }
}
