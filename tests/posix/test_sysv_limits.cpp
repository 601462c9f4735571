// SysV failures name the kernel limit and its value. The limit is lowered in
// a private IPC namespace, so the test changes nothing for other processes.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <sched.h>
#include <unistd.h>
#include <fstream>
#include <string>

using namespace shmkit;

// args: name. 0 = the expected error and message; 30 = no namespace here.
SHMKIT_CHILD_ROLE(sysv_over_shmmax) {
  if (::unshare(CLONE_NEWIPC) != 0) return 30;
  {
    std::ofstream limit("/proc/sys/kernel/shmmax");
    limit << 65536;
    if (!limit.flush()) return 31;
  }
  SegmentOptions options;
  options.backend = Backend::sysv;
  try {
    (void)NamedSharedMemory::create(args.at(0), 1 << 20, options);
  } catch (const std::system_error& e) {
    const std::string what = e.what();
    if (e.code() != std::errc::invalid_argument) return 32;
    if (what.find("kernel.shmmax is 65536") == std::string::npos) return 33;
    return 0;
  }
  return 34;
}

TEST_SUITE("sysv_limits") {
  TEST_CASE("a size above kernel.shmmax names the limit") {
    test::NameGuard guard(test::unique_name("max"));
    const auto status = test::run_child("sysv_over_shmmax", {guard.name()});
    REQUIRE(status.exited);
    if (status.code == 30) {
      MESSAGE("skipped: cannot create an IPC namespace here (needs root)");
      return;
    }
    CHECK(status.code == 0);
  }
}
