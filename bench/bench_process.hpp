// What the cross-process benchmarks (bench_messaging, bench_topic, and the
// futex baseline of bench_sync) share: shared memory that a forked child
// sees, CPU pinning, forked peers, the spin pause, percentiles, and the
// run's context and default flags. One copy, so that every suite measures
// with the same pause, pins the same way and reports the same context:
// numbers from different suites stay comparable. Linux only, like the
// benchmarks that include it.
#pragma once

#include <shmkit/shmkit.hpp>

#include <benchmark/benchmark.h>

#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace shmkit::bench {

// The same pause the library spins with, so that the baselines are not
// favoured by a tighter loop than the library gets.
inline void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// A raw futex call for the baselines. Not FUTEX_PRIVATE_FLAG: the word is
// shared between two processes.
inline long futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value) {
  return ::syscall(SYS_futex, word, op, value, nullptr, nullptr, 0);
}

// A MAP_SHARED anonymous mapping: a forked child sees the same pages.
class SharedMapping {
 public:
  explicit SharedMapping(std::size_t size)
      : size_(size),
        data_(::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)) {
    if (data_ == MAP_FAILED) throw std::system_error(errno, std::system_category(), "mmap");
  }
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;
  ~SharedMapping() { ::munmap(data_, size_); }
  void* data() const noexcept { return data_; }

 private:
  std::size_t size_;
  void* data_;
};

// One T in a SharedMapping: built before the fork, shared with the children.
template <typename T>
class Shared {
 public:
  Shared() : mapping_(sizeof(T)), object_(new (mapping_.data()) T()) {}
  ~Shared() { object_->~T(); }
  T* operator->() const noexcept { return object_; }
  T& operator*() const noexcept { return *object_; }

 private:
  SharedMapping mapping_;
  T* object_;
};

// Handshakes between the parent and its children, all outside the timed
// region: each child raises `ready` once its ends are open; `acks` counts
// what the children report back.
struct Control {
  alignas(64) std::atomic<std::uint32_t> ready{0};
  alignas(64) std::atomic<std::uint64_t> acks{0};
};

// The first two CPUs this process may run on: the parent takes the first for
// the benchmark's duration, every child the second, so that a round trip is a
// cross-core handoff and not a context switch. With fewer, nobody is pinned.
class Pinning {
 public:
  Pinning() noexcept {
    CPU_ZERO(&saved_);
    if (::sched_getaffinity(0, sizeof saved_, &saved_) != 0) return;
    int found = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; ++cpu) {
      if (CPU_ISSET(cpu, &saved_)) cpus_[found++] = cpu;
    }
    active_ = found == 2 && pin(cpus_[0]);
  }
  Pinning(const Pinning&) = delete;
  Pinning& operator=(const Pinning&) = delete;
  ~Pinning() {
    if (active_) ::sched_setaffinity(0, sizeof saved_, &saved_);
  }
  void pin_child() const noexcept {
    if (active_) pin(cpus_[1]);
  }
  // `children` names them in the report: "child" or "children".
  std::string describe(const char* children) const {
    if (!active_) return "off (fewer than 2 CPUs allowed)";
    return "parent on CPU " + std::to_string(cpus_[0]) + ", " + children + " on CPU " +
           std::to_string(cpus_[1]);
  }

 private:
  static bool pin(int cpu) noexcept {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return ::sched_setaffinity(0, sizeof one, &one) == 0;
  }

  cpu_set_t saved_;
  int cpus_[2] = {0, 0};
  bool active_ = false;
};

// Forked children. A child never returns into Google Benchmark: it runs its
// body and _exits. Whatever still runs when the parent is done is killed.
class Peers {
 public:
  Peers() = default;
  Peers(const Peers&) = delete;
  Peers& operator=(const Peers&) = delete;
  ~Peers() {
    for (pid_t pid : pids_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  // A failed fork is reported by wait_ready (false), not thrown: Google
  // Benchmark does not catch, and the benchmark can skip with an error.
  template <typename Body>
  void spawn(const Pinning& pinning, Body&& body) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      spawn_failed_ = true;
      return;
    }
    if (pid != 0) {
      pids_.push_back(pid);
      return;
    }
    pinning.pin_child();
    int status = 0;
    try {
      body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s child: %s\n", program_invocation_short_name, e.what());
      status = 1;
    }
    ::_exit(status);
  }
  // False if a child died (or never started) before `count` of them were
  // ready.
  bool wait_ready(const Control& control, std::uint32_t count) {
    while (control.ready.load(std::memory_order_acquire) < count) {
      if (spawn_failed_) return false;
      for (pid_t pid : pids_) {
        if (::waitpid(pid, nullptr, WNOHANG) == pid) {
          pids_.erase(std::find(pids_.begin(), pids_.end(), pid));
          return false;
        }
      }
      ::usleep(20);
    }
    return true;
  }
  void join() {
    for (pid_t pid : pids_) ::waitpid(pid, nullptr, 0);
    pids_.clear();
  }

 private:
  std::vector<pid_t> pids_;
  bool spawn_failed_ = false;
};

// One benchmark's parent and its one forked peer: the parent is pinned for
// the object's life, the transport is built in the parent before the fork,
// and the peer is killed (if still running) before the transport goes.
template <typename Transport>
class PeerRun {
 public:
  // Builds the transport from `args`, forks the peer to run
  // `child(transport, control)` and waits until it is ready. False, with
  // the benchmark skipped and why, when any of that fails.
  template <typename Child, typename... Args>
  bool start(benchmark::State& state, Child&& child, Args&&... args) {
    try {
      transport.emplace(std::forward<Args>(args)...);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return false;
    }
    peers.spawn(pinning, [&] { child(*transport, *control); });
    if (!peers.wait_ready(*control, 1)) {
      state.SkipWithError("the child process failed to open its end");
      return false;
    }
    return true;
  }

  const Pinning pinning;
  Shared<Control> control;
  std::optional<Transport> transport;
  Peers peers;
};

// The sample at 0-based rank floor(fraction * n), without a full sort;
// reorders `samples`.
inline double percentile(std::vector<std::int64_t>& samples, double fraction) {
  if (samples.empty()) return 0;
  auto rank = static_cast<std::size_t>(fraction * static_cast<double>(samples.size()));
  if (rank >= samples.size()) rank = samples.size() - 1;
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(rank),
                   samples.end());
  return static_cast<double>(samples[rank]);
}

// Ends a round-trip benchmark: p50 and p99 of the `taken` samples as
// counters, or the benchmark skipped if an echo did not match its ping.
inline void report_round_trips(benchmark::State& state, std::vector<std::int64_t>& samples,
                               std::size_t taken, bool echoed) {
  if (!echoed) {
    state.SkipWithError("an echo did not match its ping");
    return;
  }
  samples.resize(taken);
  state.counters["p50_ns"] = percentile(samples, 0.50);
  state.counters["p99_ns"] = percentile(samples, 0.99);
  state.SetItemsProcessed(state.iterations());
}

inline shmkit::WaitOptions wait_with(shmkit::WaitStrategy strategy) {
  shmkit::WaitOptions wait;
  wait.strategy = strategy;
  return wait;
}

inline std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

// What the report needs to say where and how these numbers were made.
inline void add_context(int argc, char** argv, const std::vector<char*>& defaults,
                        const char* children) {
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i == 0 ? "" : " ") + std::string(argv[i]);
  benchmark::AddCustomContext("command", command);
  std::string implied;
  for (const char* flag : defaults) implied += (implied.empty() ? "" : " ") + std::string(flag);
  benchmark::AddCustomContext("default_flags", implied);
  benchmark::AddCustomContext("cpu_model", cpu_model());
  struct utsname host {};
  if (::uname(&host) == 0) {
    benchmark::AddCustomContext("kernel", std::string(host.sysname) + " " + host.release);
  }
  benchmark::AddCustomContext("online_cpus", std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)));
  benchmark::AddCustomContext("pinning", Pinning().describe(children));
}

// Runs a suite with its defaults prepended to the command line, so that a
// bare run is the whole suite; flags given explicitly come later and win.
// On a shared VM the speed of a cross-core handoff changes by several times
// whenever the host moves a vCPU, for seconds at a time: many short
// repetitions (`repetitions`, e.g. "--benchmark_repetitions=10") in random
// order spread those phases over every benchmark, so that medians compare
// like with like. `children` names the peers in the pinning context.
inline int run_suite(int argc, char** argv, char* repetitions, const char* children,
                     void (*register_all)()) {
  static char min_time[] = "--benchmark_min_time=0.1";
  static char interleave[] = "--benchmark_enable_random_interleaving=true";
  static char aggregates[] = "--benchmark_display_aggregates_only=true";
  const std::vector<char*> defaults{repetitions, min_time, interleave, aggregates};
  std::vector<char*> args{argv[0]};
  args.insert(args.end(), defaults.begin(), defaults.end());
  args.insert(args.end(), argv + 1, argv + argc);
  int count = static_cast<int>(args.size());
  args.push_back(nullptr);

  add_context(argc, argv, defaults, children);
  register_all();
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace shmkit::bench
