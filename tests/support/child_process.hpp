// Re-launches the test binary as a child process running one named role, so
// that cross-process tests use real processes and real OS objects.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace shmkit::test {

struct ExitStatus {
  bool exited = false;  // returned from its role (or called exit)
  int code = -1;        // its exit code, when exited
  bool killed = false;  // ended by a signal (POSIX) or TerminateProcess (Win32)
  int signal = 0;       // POSIX: the signal that ended it
};

class Child {
 public:
  // Starts `<this binary> --shmkit-child <role> args...`. `environment`
  // entries ("NAME=value") are added to the parent's environment.
  static Child spawn(const std::string& role, const std::vector<std::string>& args = {},
                     const std::vector<std::string>& environment = {});

  Child() = default;
  Child(Child&& other) noexcept { *this = std::move(other); }
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  // A child still running when its test ends (a failed assertion) is killed,
  // so a failing test never leaves processes behind.
  ~Child();

  std::uint64_t pid() const noexcept { return pid_; }
  bool running() const noexcept { return running_; }

  // Waits at most `timeout` (then kills the child and fails the check).
  ExitStatus wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Ends it the hard way: SIGKILL or TerminateProcess. Does not reap it.
  void kill();

 private:
  std::uint64_t pid_ = 0;
  std::intptr_t handle_ = 0;  // Win32 process handle
  bool running_ = false;
};

// Runs `role` in a child and returns its exit status.
ExitStatus run_child(const std::string& role, const std::vector<std::string>& args = {},
                     const std::vector<std::string>& environment = {});

// Set by main(): the path of the running test binary.
void set_self_path(const std::string& path);
const std::string& self_path();

}  // namespace shmkit::test
