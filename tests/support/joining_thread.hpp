// A std::thread that is joined on every path out of its scope. A test that
// fails a REQUIRE while a plain std::thread runs unwinds past a joinable
// thread, and the binary dies in std::terminate before doctest can say which
// check failed. The thread's own waits must be bounded, so the join is too.
#pragma once

#include <thread>
#include <utility>

namespace shmkit::test {

class JoiningThread {
 public:
  template <typename Function>
  explicit JoiningThread(Function&& function) : thread_(std::forward<Function>(function)) {}
  JoiningThread(const JoiningThread&) = delete;
  JoiningThread& operator=(const JoiningThread&) = delete;
  ~JoiningThread() { join(); }

  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

}  // namespace shmkit::test
