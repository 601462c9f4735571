// Squatting: another user creates a name first (world-writable), and a
// process of ours must not adopt it. Needs root to become that other user.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <functional>
#include <string>

using namespace shmkit;

namespace {

constexpr uid_t k_nobody = 65534;

bool become_nobody() {
  return ::setgid(k_nobody) == 0 && ::setuid(k_nobody) == 0;
}

SegmentOptions world_writable(Backend backend = Backend::native) {
  SegmentOptions options;
  options.backend = backend;
  options.permissions = 0666;
  return options;
}

bool is_root() {
  if (::geteuid() == 0) return true;
  MESSAGE("skipped: needs root to become another user");
  return false;
}

std::string what_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const std::system_error& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace

// args: name backend. As "nobody", creates a world-writable segment.
SHMKIT_CHILD_ROLE(squat_segment) {
  if (!become_nobody()) return 20;
  const Backend backend = args.at(1) == "sysv" ? Backend::sysv : Backend::posix;
  auto shm = NamedSharedMemory::create(args.at(0), 4096, world_writable(backend));
  return 0;
}

// args: name. As "nobody", creates a world-writable mutex.
SHMKIT_CHILD_ROLE(squat_mutex) {
  if (!become_nobody()) return 20;
  SyncOptions options;
  options.permissions = 0666;
  auto mutex = NamedMutex::create(args.at(0), options);
  return 0;
}

// args: name. As "nobody", runs a server until killed.
SHMKIT_CHILD_ROLE(squat_server) {
  if (!become_nobody()) return 20;
  ServerOptions options;
  options.permissions = 0666;
  auto server = Server::create(args.at(0), options);
  for (;;) (void)server.accept();
}

TEST_SUITE("trust") {
  TEST_CASE("open and open_or_create refuse a segment another user created first") {
    if (!is_root()) return;
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("squat"));
      const auto status = test::run_child("squat_segment", {guard.name(), to_string(backend)});
      REQUIRE(status.exited);
      REQUIRE(status.code == 0);

      SegmentOptions mine;
      mine.backend = backend;
      std::error_code ec;
      auto adopted = NamedSharedMemory::open_or_create(guard.name(), 4096, mine, ec);
      CHECK(ec == errc::untrusted_owner);
      CHECK(ec == std::errc::permission_denied);  // what portable code tests
      CHECK_FALSE(adopted.is_open());
      (void)NamedSharedMemory::open(guard.name(), mine, ec);
      CHECK(ec == errc::untrusted_owner);

      const std::string what =
          what_of([&] { (void)NamedSharedMemory::open_or_create(guard.name(), 4096, mine); });
      CAPTURE(what);
      CHECK(what.find("uid 65534") != std::string::npos);
      CHECK(what.find("mode 0666") != std::string::npos);
      CHECK(what.find("trusted_owners") != std::string::npos);

      // Trusting that user by number or name lets open() through; the mode
      // is still wider than open_or_create's own 0600.
      SegmentOptions trusting = mine;
      trusting.trusted_owners = {"65534"};
      CHECK(NamedSharedMemory::open(guard.name(), trusting).is_open());
      trusting.trusted_owners = {"nobody"};
      CHECK(NamedSharedMemory::open(guard.name(), trusting).is_open());
      (void)NamedSharedMemory::open_or_create(guard.name(), 4096, trusting, ec);
      CHECK(ec == errc::insecure_permissions);
      trusting.accept_wider_permissions = true;
      auto shared = NamedSharedMemory::open_or_create(guard.name(), 4096, trusting, ec);
      CHECK_FALSE(ec);
      CHECK_FALSE(shared.created());
    }
  }

  TEST_CASE("a named mutex another user created first is refused") {
    if (!is_root()) return;
    test::NameGuard guard(test::unique_name("sqmx"));
    const auto status = test::run_child("squat_mutex", {guard.name()});
    REQUIRE(status.exited);
    REQUIRE(status.code == 0);
    std::error_code ec;
    (void)NamedMutex::open_or_create(guard.name(), {}, ec);
    CHECK(ec == errc::untrusted_owner);
    (void)NamedMutex::open(guard.name(), {}, ec);
    CHECK(ec == errc::untrusted_owner);
  }

  TEST_CASE("a server does not take over a registry another user's dead server left") {
    if (!is_root()) return;
    test::NameGuard guard(test::unique_name("sqsv"));
    auto squatter = test::Child::spawn("squat_server", {guard.name()});
    REQUIRE(test::eventually([&] { return NamedSharedMemory::exists(guard.name()); }));
    squatter.kill();
    (void)squatter.wait();
    std::error_code ec;
    auto server = Server::create(guard.name(), {}, ec);
    CHECK(ec == errc::untrusted_owner);
  }

  TEST_CASE("open_or_create refuses this user's own object if it is wider than asked") {
    test::NameGuard guard(test::unique_name("wide"));
    const mode_t old_umask = ::umask(0);
    auto first = NamedSharedMemory::create(guard.name(), 64, world_writable());
    ::umask(old_umask);
    std::error_code ec;
    (void)NamedSharedMemory::open_or_create(guard.name(), 64, {}, ec);
    CHECK(ec == errc::insecure_permissions);
    const std::string what =
        what_of([&] { (void)NamedSharedMemory::open_or_create(guard.name(), 64); });
    CAPTURE(what);
    CHECK(what.find("mode 0666, wider than the 0600 requested") != std::string::npos);
    // Asking for the same mode, or opening explicitly, is fine.
    CHECK(NamedSharedMemory::open_or_create(guard.name(), 64, world_writable()).is_open());
    CHECK(NamedSharedMemory::open(guard.name()).is_open());
  }

  TEST_CASE("a trusted owner that names nobody is an invalid argument") {
    if (!is_root()) return;
    test::NameGuard guard(test::unique_name("tno"));
    REQUIRE(test::run_child("squat_segment", {guard.name(), "posix"}).code == 0);
    SegmentOptions options;
    options.trusted_owners = {"no-such-user-shmkit"};
    std::error_code ec;
    (void)NamedSharedMemory::open(guard.name(), options, ec);
    CHECK(ec == errc::invalid_argument);
    // This user's own objects never consult the list.
    test::NameGuard own(test::unique_name("tno"));
    auto shm = NamedSharedMemory::create(own.name(), 64);
    CHECK(NamedSharedMemory::open(own.name(), options, ec).is_open());
    CHECK_FALSE(ec);
  }
}
