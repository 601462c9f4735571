// A user-session consumer: opens the service's segment read-only and prints
// COUNT consistent samples as they are signalled.
//   telemetry_consumer [COUNT]
#include "telemetry.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

int main(int argc, char** argv) {
  using namespace telemetry;
  const long count = argc > 1 ? std::atol(argv[1]) : 10;
  try {
    // The service may start after us: retry for a while.
    std::error_code ec;
    shmkit::NamedSharedMemory segment;
    for (int attempt = 0; attempt < 100; ++attempt) {
      segment = shmkit::NamedSharedMemory::open(k_segment, consumer_options(), ec);
      if (ec != shmkit::errc::not_found) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (ec) throw std::system_error(ec, "open telemetry segment");
    // Win32: the DACL grants only SYNCHRONIZE, so open() gets a handle that
    // can wait but not signal. POSIX: a waiter writes to the event's state
    // (it needs write permission on it).
    auto tick = shmkit::NamedEvent::open(k_event, shmkit::SyncOptions{consumer_options()});
    const auto& sample = *static_cast<const Sample*>(segment.data());
    for (long i = 0; i < count; ++i) {
      if (!tick.wait_for(std::chrono::seconds(5))) {
        std::fprintf(stderr, "telemetry_consumer: no sample for 5 s\n");
        return 1;
      }
      Sample copy{};
      std::uint64_t before;
      do {  // seqlock read
        before = sample.sequence.load(std::memory_order_acquire);
        copy.uptime_ms = sample.uptime_ms;
        copy.temperature = sample.temperature;
        std::atomic_thread_fence(std::memory_order_acquire);
      } while ((before & 1) != 0 || sample.sequence.load(std::memory_order_relaxed) != before);
      std::printf("sample %llu: uptime %llu ms, %.1f C\n",
                  static_cast<unsigned long long>(before / 2),
                  static_cast<unsigned long long>(copy.uptime_ms), copy.temperature);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the next tick
    }
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "telemetry_consumer: %s\n", e.what());
    return 1;
  }
  return 0;
}
