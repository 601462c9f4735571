#include "test_names.hpp"

#include <shmkit/named_mutex.hpp>
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
    // A sync object may own more than its segment (the portable path's
    // wake-up semaphore); its own remove() takes all of it.
    NamedMutex::remove(name, {}, ignored);
    for (Backend backend : segment_backends()) {
      Options options;
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
