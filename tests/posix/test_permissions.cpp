// Segments are owner-only by default; another user gets permission_denied
// with a message that says who owns the segment.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <fcntl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstring>
#include <string>

using namespace shmkit;

namespace {
constexpr uid_t k_nobody = 65534;
}

// args: name backend. Becomes "nobody", then tries to open. 0 = denied as expected.
SHMKIT_CHILD_ROLE(open_as_nobody) {
  if (::setgid(k_nobody) != 0 || ::setuid(k_nobody) != 0) return 20;
  SegmentOptions options;
  options.backend = args.at(1) == "sysv" ? Backend::sysv : Backend::posix;
  std::error_code ec;
  auto shm = NamedSharedMemory::open(args.at(0), options, ec);
  if (!ec) return 21;
  if (ec != std::errc::permission_denied) return 22;
  try {
    (void)NamedSharedMemory::open(args.at(0), options);
  } catch (const std::system_error& e) {
    // "... permission denied, it is owned by uid 0 (root), mode 0600; ..."
    if (std::string(e.what()).find("mode 0600") == std::string::npos) return 23;
    return 0;
  }
  return 24;
}

// args: mutex-name. Becomes "nobody", then tries to open the mutex.
SHMKIT_CHILD_ROLE(open_mutex_as_nobody) {
  if (::setgid(k_nobody) != 0 || ::setuid(k_nobody) != 0) return 20;
  std::error_code ec;
  (void)NamedMutex::open(args.at(0), {}, ec);
  if (ec != std::errc::permission_denied) return 21;
  (void)NamedEvent::open(args.at(0), {}, ec);  // the same answer, whatever kind is asked for
  return ec == std::errc::permission_denied ? 0 : 22;
}

TEST_SUITE("permissions") {
  TEST_CASE("created segments are owner-only (0600) regardless of the umask") {
    const mode_t old_umask = ::umask(0);
    test::NameGuard guard(test::unique_name("perm"));
    auto shm = NamedSharedMemory::create(guard.name(), 64);
    struct stat st {};
    REQUIRE(::fstat(static_cast<int>(shm.native_handle()), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    SegmentOptions sysv;
    sysv.backend = Backend::sysv;
    auto shm2 = NamedSharedMemory::create(guard.name(), 64, sysv);
    shmid_ds ds{};
    REQUIRE(::shmctl(static_cast<int>(shm2.native_handle()), IPC_STAT, &ds) == 0);
    CHECK((ds.shm_perm.mode & 0777) == 0600);

    SegmentOptions wide;
    wide.permissions = 0644;
    test::NameGuard guard2(test::unique_name("perm"));
    auto shm3 = NamedSharedMemory::create(guard2.name(), 64, wide);
    REQUIRE(::fstat(static_cast<int>(shm3.native_handle()), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
    ::umask(old_umask);
  }

  TEST_CASE("another user gets permission_denied naming the owner") {
    if (::geteuid() != 0) {
      MESSAGE("skipped: needs root to become another user");
      return;
    }
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("deny"));
      SegmentOptions options;
      options.backend = backend;
      auto shm = NamedSharedMemory::create(guard.name(), 64, options);
      const auto status = test::run_child("open_as_nobody", {guard.name(), to_string(backend)});
      REQUIRE(status.exited);
      CHECK(status.code == 0);
    }
  }

  TEST_CASE("sync objects are owner-only too") {
    if (::geteuid() != 0) {
      MESSAGE("skipped: needs root to become another user");
      return;
    }
    test::NameGuard guard(test::unique_name("denym"));
    auto mutex = NamedMutex::create(guard.name());
    const auto status = test::run_child("open_mutex_as_nobody", {guard.name()});
    REQUIRE(status.exited);
    CHECK(status.code == 0);
  }
}
