// Child processes on POSIX: posix_spawn of /proc/self/exe (or argv[0]).
#include "child_process.hpp"

#include <doctest/doctest.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

extern char** environ;

namespace shmkit::test {
namespace {

std::string& self_path_storage() {
  static std::string path;
  return path;
}

ExitStatus decode(int status) {
  ExitStatus result;
  if (WIFEXITED(status)) {
    result.exited = true;
    result.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.killed = true;
    result.signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace

void set_self_path(const std::string& path) {
  self_path_storage() = path;
}
const std::string& self_path() {
  return self_path_storage();
}

Child Child::spawn(const std::string& role, const std::vector<std::string>& args,
                   const std::vector<std::string>& environment) {
  std::vector<std::string> argv_storage{self_path(), "--shmkit-child", role};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  env_storage.insert(env_storage.end(), environment.begin(), environment.end());
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int rc =
      ::posix_spawn(&pid, self_path().c_str(), nullptr, nullptr, argv.data(), envp.data());
  REQUIRE_MESSAGE(rc == 0, "posix_spawn failed: " << std::strerror(rc));
  Child child;
  child.pid_ = static_cast<std::uint64_t>(pid);
  child.running_ = true;
  return child;
}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    if (running_) {
      kill();
      wait();
    }
    pid_ = std::exchange(other.pid_, 0);
    handle_ = std::exchange(other.handle_, 0);
    running_ = std::exchange(other.running_, false);
  }
  return *this;
}

Child::~Child() {
  if (running_) {
    kill();
    int status = 0;
    ::waitpid(static_cast<pid_t>(pid_), &status, 0);
  }
}

ExitStatus Child::wait(std::chrono::milliseconds timeout) {
  REQUIRE(running_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(static_cast<pid_t>(pid_), &status, WNOHANG);
    if (done == static_cast<pid_t>(pid_)) break;
    REQUIRE_MESSAGE((done == 0 || errno == EINTR), "waitpid failed: " << std::strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline) {
      kill();
      ::waitpid(static_cast<pid_t>(pid_), &status, 0);
      running_ = false;
      FAIL("child " << pid_ << " did not finish within " << timeout.count() << " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  running_ = false;
  return decode(status);
}

void Child::kill() {
  if (running_) ::kill(static_cast<pid_t>(pid_), SIGKILL);
}

ExitStatus run_child(const std::string& role, const std::vector<std::string>& args,
                     const std::vector<std::string>& environment) {
  return Child::spawn(role, args, environment).wait();
}

}  // namespace shmkit::test
