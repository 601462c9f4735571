// The service's work: publish a sample every 100 ms and signal the event.
//   telemetry_producer [COUNT]   runs as a console program (COUNT samples,
//                                default forever); the Windows service
//                                wrapper (service_main_win32.cpp) calls the
//                                same run_producer().
#include "telemetry.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace telemetry {

int run_producer(long count, const std::atomic<bool>& stop) {
  using namespace std::chrono;
  auto segment =
      shmkit::NamedSharedMemory::open_or_create(k_segment, sizeof(Sample), service_options());
  auto tick = shmkit::NamedEvent::open_or_create(k_event, shmkit::EventReset::manual_reset,
                                                 shmkit::SyncOptions{service_options()});
  auto& sample = *static_cast<Sample*>(segment.data());
  const auto started = steady_clock::now();
  for (long i = 0; (count <= 0 || i < count) && !stop.load(); ++i) {
    // A seqlock: readers retry while the sequence is odd or changed under them.
    const std::uint64_t sequence = sample.sequence.load(std::memory_order_relaxed);
    sample.sequence.store(sequence + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    sample.uptime_ms = static_cast<std::uint64_t>(
        duration_cast<milliseconds>(steady_clock::now() - started).count());
    sample.temperature = 20.0 + static_cast<double>(i % 10) / 10.0;
    sample.sequence.store(sequence + 2, std::memory_order_release);
    // Manual reset: every waiting consumer wakes; reset before the next one.
    tick.set();
    std::this_thread::sleep_for(milliseconds(100));
    tick.reset();
  }
  return 0;
}

}  // namespace telemetry

#ifndef TELEMETRY_AS_SERVICE
int main(int argc, char** argv) {
  std::atomic<bool> stop{false};
  try {
    return telemetry::run_producer(argc > 1 ? std::atol(argv[1]) : 0, stop);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "telemetry_producer: %s\n", e.what());
    return 1;
  }
}
#endif
