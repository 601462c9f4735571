// Unique object names for tests, and their clean-up.
#pragma once

#include <shmkit/options.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace shmkit::test {

// A name no other test, test process or earlier run uses: a prefix, the pid,
// a counter and random bits, within the 30-character limit.
std::string unique_name(const char* prefix = "t");

// Removes its names from every backend when it goes out of scope, so a test
// that fails half-way leaves nothing behind.
class NameGuard {
 public:
  explicit NameGuard(std::string name) { add(std::move(name)); }
  NameGuard(const NameGuard&) = delete;
  NameGuard& operator=(const NameGuard&) = delete;
  ~NameGuard();
  void add(std::string name) { names_.push_back(std::move(name)); }
  const std::string& name() const { return names_.front(); }

 private:
  std::vector<std::string> names_;
};

// The backends of this platform, for tests that run once per backend.
std::vector<Backend> segment_backends();

// Polls `condition` until it holds or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace shmkit::test
