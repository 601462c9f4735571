#include "child_role.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>

namespace shmkit::test {
namespace {

std::map<std::string, RoleFunction>& roles() {
  static std::map<std::string, RoleFunction> all;
  return all;
}

}  // namespace

bool register_role(const char* name, RoleFunction function) {
  if (!roles().emplace(name, function).second) {
    std::fprintf(stderr, "two child roles are called '%s'\n", name);
    std::abort();
  }
  return true;
}

bool run_role_from_command_line(int argc, char** argv, int& exit_code) {
  if (argc < 3 || std::strcmp(argv[1], "--shmkit-child") != 0) return false;
  const auto found = roles().find(argv[2]);
  if (found == roles().end()) {
    std::fprintf(stderr, "unknown child role '%s'\n", argv[2]);
    exit_code = 100;
    return true;
  }
  try {
    exit_code = found->second(std::vector<std::string>(argv + 3, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child role '%s' threw: %s\n", argv[2], e.what());
    exit_code = 101;
  }
  return true;
}

}  // namespace shmkit::test
