// The test binary's entry point: either doctest, or a child role when the
// binary was re-launched by a cross-process test.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "support/child_process.hpp"
#include "support/child_role.hpp"

int main(int argc, char** argv) {
  shmkit::test::set_self_path(argv[0]);
  int exit_code = 0;
  if (shmkit::test::run_role_from_command_line(argc, argv, exit_code)) return exit_code;
  doctest::Context context(argc, argv);
  return context.run();
}
