#include "test_names.hpp"

#include <shmkit/channel.hpp>
#include <shmkit/named_shared_memory.hpp>

#include <atomic>
#include <cstdio>
#include <random>
#include <thread>

namespace shmkit::test {

std::string unique_name(const char* prefix) {
  static std::atomic<unsigned> counter{0};
  // Random per process, so that concurrent test processes and runs differ.
  static const unsigned salt = std::random_device{}();
  char text[40];
  std::snprintf(text, sizeof text, "%.6s%08x-%x", prefix, salt, counter.fetch_add(1));
  return text;
}

NameGuard::~NameGuard() {
  for (const auto& name : names_) {
    std::error_code ignored;
    // An object may own more than its segment (the portable path's wake-up
    // semaphores, up to four for a channel); Channel::remove() takes the
    // segment and every such semaphore, whatever kind the object is.
    Channel::remove(name, {}, ignored);
    for (Backend backend : segment_backends()) {
      SegmentOptions options;
      options.backend = backend;
      options.raw = true;  // also removes segments whose header a test broke
      std::error_code ignored;
      NamedSharedMemory::remove(name, options, ignored);
    }
  }
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace shmkit::test
