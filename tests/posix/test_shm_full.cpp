// A full or undersized /dev/shm (Docker's default is 64 MB) must be an error
// at creation, never SIGBUS at the first write. Runs in a child that has its
// own mount namespace with an 8 MiB tmpfs on /dev/shm: Linux, as root.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace shmkit;

namespace {

constexpr int k_skipped = 77;
constexpr std::size_t k_mib = 1024 * 1024;

// Reports a failed expectation from the child and gives its line as exit code.
#define EXPECT_IN_CHILD(condition)                                          \
  do {                                                                      \
    if (!(condition)) {                                                     \
      std::fprintf(stderr, "line %d: expected %s\n", __LINE__, #condition); \
      return __LINE__ % 250 + 1;                                            \
    }                                                                       \
  } while (0)

// A private /dev/shm of `size`: nothing outside this process sees it.
bool private_dev_shm(const char* size) {
  if (::unshare(CLONE_NEWNS) != 0) return false;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
  const std::string data = std::string("size=") + size + ",mode=1777";
  return ::mount("tmpfs", "/dev/shm", "tmpfs", 0, data.c_str()) == 0;
}

bool says_no_space(const std::error_code& ec) {
  return ec == std::errc::no_space_on_device;
}

std::string what_of_create(const std::string& name, std::size_t size) {
  try {
    (void)NamedSharedMemory::create(name, size);
  } catch (const std::system_error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

// args: name-prefix. Every creation that cannot have its memory fails
// cleanly and leaves no name behind.
SHMKIT_CHILD_ROLE(full_dev_shm) {
  if (!private_dev_shm("8m")) return k_skipped;
  const std::string n = args.at(0);
  std::error_code ec;

  // Larger than the whole file system.
  (void)NamedSharedMemory::create(n + "a", 16 * k_mib, {}, ec);
  EXPECT_IN_CHILD(says_no_space(ec));
  EXPECT_IN_CHILD(!NamedSharedMemory::exists(n + "a"));
  const std::string what = what_of_create(n + "a", 16 * k_mib);
  std::fprintf(stderr, "message: %s\n", what.c_str());
  EXPECT_IN_CHILD(what.find("cannot reserve 16777728 bytes") != std::string::npos);
  EXPECT_IN_CHILD(what.find("bytes free of 8388608") != std::string::npos);
  EXPECT_IN_CHILD(what.find("--shm-size") != std::string::npos);

  (void)NamedSharedMemory::open_or_create(n + "b", 16 * k_mib, {}, ec);
  EXPECT_IN_CHILD(says_no_space(ec));
  SegmentOptions populate;
  populate.populate = true;
  (void)NamedSharedMemory::create(n + "c", 16 * k_mib, populate, ec);
  EXPECT_IN_CHILD(says_no_space(ec));
  SegmentOptions raw;
  raw.raw = true;
  (void)NamedSharedMemory::create(n + "d", 16 * k_mib, raw, ec);
  EXPECT_IN_CHILD(says_no_space(ec));
  (void)NamedSharedMemory::create(n + "e", std::size_t{1000} << 30, {}, ec);  // "1000G"
  EXPECT_IN_CHILD(says_no_space(ec));
  (void)Queue<long>::create(n + "f", std::size_t{1} << 22, {}, ec);
  EXPECT_IN_CHILD(says_no_space(ec));
  (void)RingProducer::create(n + "g", 16 * k_mib, {}, ec);
  EXPECT_IN_CHILD(says_no_space(ec));
  for (const char* suffix : {"a", "b", "c", "d", "e", "f", "g"}) {
    EXPECT_IN_CHILD(!NamedSharedMemory::exists(n + suffix));
  }

  // What fits is usable to its last byte.
  auto fits = NamedSharedMemory::create(n + "h", 4 * k_mib);
  std::memset(fits.data(), 0xab, fits.size());

  // Fill the rest, then every kind of object fails to create instead of
  // dying in its header write.
  // Large pieces, then one-page pieces, until not even a page is left.
  std::vector<NamedSharedMemory> filler;
  for (const std::size_t piece : {std::size_t{256 * 1024}, std::size_t{1024}}) {
    for (int i = 0; i < 512; ++i) {
      const std::string name = n + "i" + std::to_string(filler.size());
      auto more = NamedSharedMemory::create(name, piece, {}, ec);
      if (ec) break;
      filler.push_back(std::move(more));
    }
    EXPECT_IN_CHILD(says_no_space(ec));
  }
  (void)NamedSharedMemory::create(n + "j", 64 * 1024, {}, ec);
  EXPECT_IN_CHILD(says_no_space(ec));
  (void)NamedMutex::create(n + "k", {}, ec);
  EXPECT_IN_CHILD(ec);
  (void)NamedEvent::create(n + "l", EventReset::auto_reset, {}, ec);
  EXPECT_IN_CHILD(ec);
  (void)NamedSemaphore::create(n + "m", 0, {}, ec);
  EXPECT_IN_CHILD(ec);
  return 0;
}

TEST_SUITE("shm_full") {
  TEST_CASE("a full or undersized /dev/shm fails creation instead of raising SIGBUS") {
    if (::geteuid() != 0) {
      MESSAGE("skipped: needs root to mount a private tmpfs on /dev/shm");
      return;
    }
    // The objects live only in the child's private /dev/shm, which vanishes
    // with it: nothing to clean up out here.
    const auto status = test::run_child("full_dev_shm", {test::unique_name("full").substr(0, 26)});
    if (status.exited && status.code == k_skipped) {
      MESSAGE("skipped: cannot make a private mount namespace here");
      return;
    }
    CHECK_FALSE(status.killed);  // SIGBUS was the failure this test was written for
    CHECK(status.exited);
    CHECK(status.code == 0);
  }
}
