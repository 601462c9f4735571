// Roles a child process can play. A test file defines a role with
// SHMKIT_CHILD_ROLE(name) { ... return exit_code; } and starts it with
// Child::spawn("name", args).
#pragma once

#include <string>
#include <vector>

namespace shmkit::test {

using RoleFunction = int (*)(const std::vector<std::string>& args);

bool register_role(const char* name, RoleFunction function);

// Runs the role named by argv if argv asks for one ("--shmkit-child ROLE
// args..."); returns true and sets exit_code if it did.
bool run_role_from_command_line(int argc, char** argv, int& exit_code);

}  // namespace shmkit::test

#define SHMKIT_CHILD_ROLE(role)                                       \
  static int role##_child_role(const std::vector<std::string>& args); \
  [[maybe_unused]] static const bool role##_child_role_registered =   \
      ::shmkit::test::register_role(#role, &role##_child_role);       \
  static int role##_child_role([[maybe_unused]] const std::vector<std::string>& args)
