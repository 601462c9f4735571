// Whatever another process wrote into the header, open() reports it and
// never crashes.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/test_names.hpp"
#include "segment/segment_header.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <random>

using namespace shmkit;

namespace {

// Creates a valid segment, lets `damage` edit its header through a raw
// mapping, and returns what open() says.
std::error_code open_after(Backend backend,
                           const std::function<void(detail::SegmentHeader&)>& damage) {
  test::NameGuard guard(test::unique_name("hdr"));
  SegmentOptions options;
  options.backend = backend;
  options.open_timeout = std::chrono::milliseconds(50);
  auto shm = NamedSharedMemory::create(guard.name(), 4096, options);
  SegmentOptions raw = options;
  raw.raw = true;
  auto bytes = NamedSharedMemory::open(guard.name(), raw);
  damage(*static_cast<detail::SegmentHeader*>(bytes.data()));
  std::error_code ec;
  auto again = NamedSharedMemory::open(guard.name(), options, ec);
  CHECK(again.is_open() == !ec);
  return ec;
}

}  // namespace

TEST_SUITE("header") {
  TEST_CASE("a damaged header gives a clear error") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      using H = detail::SegmentHeader;
      CHECK(open_after(backend, [](H& h) { h.magic = 0x1234; }) == errc::incompatible_layout);
      CHECK(open_after(backend, [](H& h) { h.layout_version = 99; }) == errc::incompatible_layout);
      CHECK(open_after(backend, [](H& h) { h.data_size = 1ULL << 40; }) == errc::corrupted);
      CHECK(open_after(backend, [](H& h) { h.data_size = 0; }) == errc::corrupted);
      CHECK(open_after(backend, [](H& h) { h.header_size = 64; }) == errc::corrupted);
      CHECK(open_after(backend, [](H& h) { h.attach_capacity = 1000000; }) == errc::corrupted);
      CHECK(open_after(backend, [](H& h) { h.backend = 77; }) == errc::corrupted);
      CHECK(open_after(backend, [](H& h) { h.state = 3; }) == errc::incompatible_layout);
      CHECK(open_after(backend, [](H& h) {
              h.kind = static_cast<std::uint32_t>(ObjectKind::mutex);
            }) == errc::wrong_kind);
      CHECK(open_after(backend, [](H& h) { std::memset(h.name, 'z', sizeof h.name); }) !=
            std::error_code());
    }
  }

  TEST_CASE("a SysV key shared by two names is reported as a collision") {
    using H = detail::SegmentHeader;
    const auto backends = test::segment_backends();
    if (std::find(backends.begin(), backends.end(), Backend::sysv) == backends.end()) return;
    CHECK(open_after(Backend::sysv, [](H& h) { std::strcpy(h.name, "another-name"); }) ==
          errc::name_collision);
  }

  TEST_CASE("random garbage in the header never crashes open()") {
    std::mt19937_64 random(42);
    for (Backend backend : test::segment_backends()) {
      for (int round = 0; round < 50; ++round) {
        const std::error_code ec = open_after(backend, [&](detail::SegmentHeader& h) {
          auto* bytes = reinterpret_cast<unsigned char*>(&h);
          // Leave the state word published so that open() validates rather than waits.
          for (int i = 0; i < 8; ++i)
            bytes[random() % (sizeof(detail::SegmentHeader) - 64)] =
                static_cast<unsigned char>(random());
        });
        (void)ec;  // any outcome but a crash or a hang is acceptable
      }
    }
  }

  TEST_CASE("a segment too small for a header is not a shmkit segment") {
    for (Backend backend : test::segment_backends()) {
      test::NameGuard guard(test::unique_name("tiny"));
      SegmentOptions raw;
      raw.backend = backend;
      raw.raw = true;
      auto tiny = NamedSharedMemory::create(guard.name(), 100, raw);
      SegmentOptions options;
      options.backend = backend;
      std::error_code ec;
      (void)NamedSharedMemory::open(guard.name(), options, ec);
      if (backend == Backend::win32) {
        // Win32 maps whole pages, so the 100 bytes arrive as a zero-filled
        // page: exactly what a creator that has not published its header
        // looks like.
        CHECK(ec == errc::not_ready);
      } else {
        CHECK(ec == errc::incompatible_layout);
      }
    }
  }
}
