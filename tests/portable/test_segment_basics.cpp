// Create / open / remove on every backend of this platform, with the data
// crossing real process boundaries.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <cstdint>
#include <cstring>
#include <string>

using namespace shmkit;

namespace {

SegmentOptions with_backend(Backend backend) {
  SegmentOptions options;
  options.backend = backend;
  return options;
}

Backend backend_from(const std::string& text) {
  for (Backend b : {Backend::posix, Backend::sysv, Backend::win32}) {
    if (text == to_string(b)) return b;
  }
  return Backend::native;
}

}  // namespace

// args: name backend. Reads the parent's greeting, answers in the same segment.
SHMKIT_CHILD_ROLE(segment_echo) {
  auto shm = NamedSharedMemory::open(args.at(0), with_backend(backend_from(args.at(1))));
  auto* text = static_cast<char*>(shm.data());
  if (shm.size() != 4096 || std::string(text) != "hello from parent") return 2;
  std::strcpy(text + 1024, "hello from child");
  return 0;
}

TEST_SUITE("segment") {
  TEST_CASE("data written in one process is read in another, both ways") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("echo"));
      auto shm = NamedSharedMemory::create(guard.name(), 4096, with_backend(backend));
      CHECK(shm.created());
      CHECK(shm.size() == 4096);
      CHECK(shm.backend() == backend);
      CHECK(shm.name() == guard.name());
      CHECK(reinterpret_cast<std::uintptr_t>(shm.data()) % 64 == 0);
      std::strcpy(static_cast<char*>(shm.data()), "hello from parent");

      const auto status = test::run_child("segment_echo", {guard.name(), to_string(backend)});
      REQUIRE(status.exited);
      CHECK(status.code == 0);
      CHECK(std::string(static_cast<char*>(shm.data()) + 1024) == "hello from child");
    }
  }

  TEST_CASE("a new segment is zero-filled and has exactly the requested size") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("zero"));
      auto shm = NamedSharedMemory::create(guard.name(), 1000, with_backend(backend));
      const auto* bytes = static_cast<const unsigned char*>(shm.data());
      bool all_zero = true;
      for (std::size_t i = 0; i < shm.size(); ++i) all_zero = all_zero && bytes[i] == 0;
      CHECK(all_zero);
      auto again = NamedSharedMemory::open(guard.name(), with_backend(backend));
      CHECK(again.size() == 1000);
      CHECK_FALSE(again.created());
    }
  }

  TEST_CASE("create on a taken name, open of a missing one, remove of a missing one") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("life"));
      const SegmentOptions options = with_backend(backend);
      std::error_code ec;

      CHECK_FALSE(NamedSharedMemory::exists(guard.name(), options));
      auto missing = NamedSharedMemory::open(guard.name(), options, ec);
      CHECK(ec == errc::not_found);
      CHECK(ec == std::errc::no_such_file_or_directory);
      CHECK_FALSE(missing.is_open());
      CHECK_FALSE(NamedSharedMemory::remove(guard.name(), options, ec));
      CHECK_FALSE(ec);  // removing nothing is not an error

      auto shm = NamedSharedMemory::create(guard.name(), 64, options);
      CHECK(NamedSharedMemory::exists(guard.name(), options));
      auto second = NamedSharedMemory::create(guard.name(), 64, options, ec);
      CHECK(ec == errc::already_exists);
      CHECK(ec == std::errc::file_exists);
      CHECK_FALSE(second.is_open());

      if (backend == Backend::win32) {
        // Win32 has no remove(): a segment dies with its last handle, and
        // `shm` still holds one.
        CHECK_FALSE(NamedSharedMemory::remove(guard.name(), options));
        CHECK(NamedSharedMemory::exists(guard.name(), options));
      } else {
        CHECK(NamedSharedMemory::remove(guard.name(), options));
        CHECK_FALSE(NamedSharedMemory::exists(guard.name(), options));
      }
      // The mapping outlives the name.
      static_cast<char*>(shm.data())[63] = 'x';
      CHECK(static_cast<char*>(shm.data())[63] == 'x');
    }
  }

  TEST_CASE("size 0 and impossible sizes are refused") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("size"));
      std::error_code ec;
      (void)NamedSharedMemory::create(guard.name(), 0, with_backend(backend), ec);
      CHECK(ec == errc::invalid_size);
      (void)NamedSharedMemory::open_or_create(guard.name(), SIZE_MAX, with_backend(backend), ec);
      CHECK(ec == errc::invalid_size);
      CHECK_FALSE(NamedSharedMemory::exists(guard.name(), with_backend(backend)));
    }
  }

  TEST_CASE("open_or_create of an existing segment with another size names both sizes") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("mism"));
      auto shm = NamedSharedMemory::create(guard.name(), 4096, with_backend(backend));
      try {
        (void)NamedSharedMemory::open_or_create(guard.name(), 8192, with_backend(backend));
        FAIL("expected size_mismatch");
      } catch (const std::system_error& e) {
        CHECK(e.code() == errc::size_mismatch);
        const std::string what = e.what();
        CHECK(what.find("'" + guard.name() + "' exists with size 4096, requested 8192") !=
              std::string::npos);
      }
      auto same = NamedSharedMemory::open_or_create(guard.name(), 4096, with_backend(backend));
      CHECK_FALSE(same.created());
    }
  }

  TEST_CASE("creating read-only makes no sense and says so") {
    test::NameGuard guard(test::unique_name("rocr"));
    SegmentOptions options;
    options.access = Access::read_only;
    std::error_code ec;
    (void)NamedSharedMemory::create(guard.name(), 64, options, ec);
    CHECK(ec == errc::invalid_argument);
  }

  TEST_CASE("unlink_on_close removes the name when the handle closes") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("unl"));
      SegmentOptions options = with_backend(backend);
      options.unlink_on_close = true;
      {
        auto shm = NamedSharedMemory::create(guard.name(), 128, options);
        CHECK(NamedSharedMemory::exists(guard.name(), with_backend(backend)));
      }
      CHECK_FALSE(NamedSharedMemory::exists(guard.name(), with_backend(backend)));
      // Without the option the name stays, except on Win32, where a segment
      // always dies with its last handle.
      { auto shm = NamedSharedMemory::create(guard.name(), 128, with_backend(backend)); }
      CHECK(NamedSharedMemory::exists(guard.name(), with_backend(backend)) ==
            (backend != Backend::win32));
    }
  }

  TEST_CASE("handles move, and close() is idempotent") {
    test::NameGuard guard(test::unique_name("move"));
    auto a = NamedSharedMemory::create(guard.name(), 256);
    void* data = a.data();
    NamedSharedMemory b = std::move(a);
    CHECK_FALSE(a.is_open());
    CHECK(b.data() == data);
    CHECK(b.name() == guard.name());
    b.close();
    b.close();
    CHECK_FALSE(b);
  }

  TEST_CASE("an empty handle answers its accessors and refuses what can fail") {
    test::NameGuard guard(test::unique_name("empty"));
    NamedSharedMemory never_opened;
    auto moved_from = NamedSharedMemory::create(guard.name(), 64);
    NamedSharedMemory keeper = std::move(moved_from);
    auto closed = NamedSharedMemory::open(guard.name());
    closed.close();
    for (const NamedSharedMemory* empty : {&never_opened, &moved_from, &closed}) {
      CHECK_FALSE(empty->is_open());
      CHECK(empty->data() == nullptr);
      CHECK(empty->size() == 0);
      CHECK(empty->name().empty());
      CHECK_FALSE(empty->created());
      CHECK(empty->native_handle() == -1);
      std::error_code ec;
      CHECK(empty->attached_processes(ec).empty());
      CHECK(ec == errc::invalid_state);
      CHECK(error_message(ec).find("empty handle") != std::string::npos);
      try {
        (void)empty->attached_processes();
        FAIL("no exception");
      } catch (const Error& e) {
        CHECK(e.code() == errc::invalid_state);
        CHECK(std::string(e.what()) == error_message(ec));
      }
    }
    // The segment itself is untouched by what was done to the empty handles.
    CHECK(keeper.attached_processes().size() == 1);
  }

  TEST_CASE("populate pre-faults the mapping and changes nothing else") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("pop"));
      SegmentOptions options = with_backend(backend);
      options.populate = true;
      auto shm = NamedSharedMemory::create(guard.name(), 1 << 20, options);
      auto other = NamedSharedMemory::open(guard.name(), options);
      static_cast<char*>(shm.data())[12345] = 7;
      CHECK(static_cast<char*>(other.data())[12345] == 7);
    }
  }
}
