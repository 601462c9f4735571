// Sync objects against their baselines, measured in the same run:
// - uncontended lock/unlock: NamedMutex and ProcessMutex vs a raw robust
//   process-shared pthread mutex in shared memory (and Boost.Interprocess
//   named_mutex when present);
// - cross-process handoff: two processes alternately take a mutex;
// - owner death: a waiter blocks on a mutex held by another process, which
//   is SIGKILLed; the time from the kill to the waiter's acquired_owner_died
//   (EOWNERDEAD for the robust pthread mutex);
// - event round trip: set -> wake -> set back between two processes, for
//   NamedEvent vs raw futex vs eventfd, and a ProcessMutex+ProcessCondition
//   ping-pong vs the same with a robust pthread mutex and condition.
#include "bench_process.hpp"

#include <shmkit/shmkit.hpp>

#include <benchmark/benchmark.h>

#include <linux/futex.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#if __has_include(<boost/interprocess/sync/named_mutex.hpp>)
#include <boost/interprocess/sync/named_mutex.hpp>
#define SHMKIT_BENCH_HAVE_BOOST 1
#endif

namespace {

std::string bench_name(const char* what) {
  char text[31];
  std::snprintf(text, sizeof text, "bsync-%s-%d", what, static_cast<int>(::getpid()));
  return text;
}

void* shared_anonymous(std::size_t size) {
  return ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
}

// ---- uncontended lock/unlock ------------------------------------------------

void BM_Uncontended_RawRobustPthread(benchmark::State& state) {
  auto* m = static_cast<pthread_mutex_t*>(shared_anonymous(sizeof(pthread_mutex_t)));
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(m, &a);
  for (auto _ : state) {
    pthread_mutex_lock(m);
    pthread_mutex_unlock(m);
  }
  ::munmap(m, sizeof(pthread_mutex_t));
}

void BM_Uncontended_NamedMutex(benchmark::State& state) {
  const std::string name = bench_name("unc");
  auto mutex = shmkit::NamedMutex::create(name);
  for (auto _ : state) {
    mutex.lock();
    mutex.unlock();
  }
  shmkit::NamedMutex::remove(name);
}

void BM_Uncontended_ProcessMutex(benchmark::State& state) {
  auto* m = new (shared_anonymous(sizeof(shmkit::ProcessMutex))) shmkit::ProcessMutex();
  for (auto _ : state) {
    m->lock();
    m->unlock();
  }
  ::munmap(m, sizeof(shmkit::ProcessMutex));
}

#ifdef SHMKIT_BENCH_HAVE_BOOST
void BM_Uncontended_BoostNamedMutex(benchmark::State& state) {
  namespace bip = boost::interprocess;
  const std::string name = bench_name("boost");
  bip::named_mutex::remove(name.c_str());
  bip::named_mutex mutex(bip::create_only, name.c_str());
  for (auto _ : state) {
    mutex.lock();
    mutex.unlock();
  }
  bip::named_mutex::remove(name.c_str());
}
#endif

// ---- cross-process handoff --------------------------------------------------
// A child process loops lock/unlock on the same mutex while we measure ours.
// `child_setup` runs first in the child: a shmkit handle inherited through
// fork() is dead there (named_mutex.hpp), so the child opens its own. The
// measurement starts once the child is ready; the child's count of
// lock/unlock pairs is reported as peer_locks, and a child that failed fails
// the row.

struct ContendedPeer {
  std::atomic<int> ready;
  std::atomic<std::uint64_t> locks;
};

template <typename Lock, typename Unlock, typename ChildSetup>
void run_contended(benchmark::State& state, Lock lock, Unlock unlock, std::atomic<int>* stop,
                   ChildSetup child_setup) {
  auto* peer = new (shared_anonymous(sizeof(ContendedPeer))) ContendedPeer{};
  const pid_t child = ::fork();
  if (child == 0) {
    std::uint64_t count = 0;
    try {
      child_setup();
      peer->ready.store(1);
      while (stop->load(std::memory_order_relaxed) == 0) {
        lock();
        unlock();
        ++count;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "contended peer: %s\n", e.what());
      peer->ready.store(2);
      ::_exit(1);
    }
    peer->locks.store(count);
    ::_exit(0);
  }
  while (peer->ready.load() == 0) std::this_thread::yield();
  for (auto _ : state) {
    lock();
    unlock();
  }
  stop->store(1);
  int status = 0;
  ::waitpid(child, &status, 0);
  state.counters["peer_locks"] = static_cast<double>(peer->locks.load());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    state.SkipWithError("the peer process failed (its message is above)");
  }
  ::munmap(peer, sizeof(ContendedPeer));
}

template <typename Lock, typename Unlock>
void run_contended(benchmark::State& state, Lock lock, Unlock unlock, std::atomic<int>* stop) {
  run_contended(state, lock, unlock, stop, [] {});
}

void BM_Contended_RawRobustPthread(benchmark::State& state) {
  struct Shared {
    pthread_mutex_t m;
    std::atomic<int> stop;
  };
  auto* s = static_cast<Shared*>(shared_anonymous(sizeof(Shared)));
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&s->m, &a);
  run_contended(
      state, [&] { pthread_mutex_lock(&s->m); }, [&] { pthread_mutex_unlock(&s->m); }, &s->stop);
  ::munmap(s, sizeof(Shared));
}

void BM_Contended_NamedMutex(benchmark::State& state) {
  const std::string name = bench_name("con");
  auto mutex = shmkit::NamedMutex::create(name);
  auto* stop = static_cast<std::atomic<int>*>(shared_anonymous(sizeof(std::atomic<int>)));
  // The child's handle, opened by name in the child (the inherited one is
  // dead there).
  shmkit::NamedMutex peer;
  shmkit::NamedMutex* handle = &mutex;
  run_contended(
      state, [&] { handle->lock(); }, [&] { handle->unlock(); }, stop,
      [&] {
        peer = shmkit::NamedMutex::open(name);
        handle = &peer;
      });
  shmkit::NamedMutex::remove(name);
}

void BM_Contended_ProcessMutex(benchmark::State& state) {
  struct Shared {
    shmkit::ProcessMutex m;
    std::atomic<int> stop;
  };
  auto* s = new (shared_anonymous(sizeof(Shared))) Shared{};
  run_contended(
      state, [&] { s->m.lock(); }, [&] { s->m.unlock(); }, &s->stop);
  ::munmap(s, sizeof(Shared));
}

#ifdef SHMKIT_BENCH_HAVE_BOOST
void BM_Contended_BoostNamedMutex(benchmark::State& state) {
  namespace bip = boost::interprocess;
  const std::string name = bench_name("bcon");
  bip::named_mutex::remove(name.c_str());
  bip::named_mutex mutex(bip::create_only, name.c_str());
  auto* stop = static_cast<std::atomic<int>*>(shared_anonymous(sizeof(std::atomic<int>)));
  run_contended(
      state, [&] { mutex.lock(); }, [&] { mutex.unlock(); }, stop);
  bip::named_mutex::remove(name.c_str());
}
#endif

// ---- owner death ------------------------------------------------------------
// Per iteration: a child process takes the lock and stays; a thread of ours
// blocks on it; once that thread is asleep in the kernel, the child is
// SIGKILLed. Measured (manual time): from the kill to the moment the waiter
// returns owning the lock with the death reported. Process start-up and the
// wait for sleep are outside the measurement.

// True once thread `tid` of this process sleeps in the kernel ('S').
bool thread_sleeps(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'S';
}

struct DeathShared {
  std::atomic<int> holding;  // the child holds the lock
};

// `hold` runs in the child and must take the lock; `acquire_after_death`
// runs in a thread of ours and returns true if it got the lock with the
// death reported.
template <typename Hold, typename AcquireAfterDeath>
void run_owner_death(benchmark::State& state, Hold hold, AcquireAfterDeath acquire_after_death) {
  auto* shared = static_cast<DeathShared*>(shared_anonymous(sizeof(DeathShared)));
  std::vector<double> samples;
  bool failed = false;
  for (auto _ : state) {
    shared->holding.store(0);
    const pid_t child = ::fork();
    if (child == 0) {
      hold();
      shared->holding.store(1);
      for (;;) ::pause();
    }
    while (shared->holding.load() == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
    std::atomic<pid_t> waiter_tid{0};
    std::chrono::steady_clock::time_point acquired_at;
    bool reported = false;
    std::thread waiter([&] {
      waiter_tid.store(static_cast<pid_t>(::syscall(SYS_gettid)));
      reported = acquire_after_death();
      acquired_at = std::chrono::steady_clock::now();
    });
    while (waiter_tid.load() == 0 || !thread_sleeps(waiter_tid.load())) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    // Let it settle into its steady sleep (the spin and first liveness check
    // are over), at a random point of any periodic slice.
    std::this_thread::sleep_for(std::chrono::microseconds(2000 + samples.size() * 397 % 5000));
    const auto killed_at = std::chrono::steady_clock::now();
    ::kill(child, SIGKILL);
    waiter.join();
    ::waitpid(child, nullptr, 0);
    const double seconds = std::chrono::duration<double>(acquired_at - killed_at).count();
    state.SetIterationTime(seconds);
    samples.push_back(seconds);
    failed = failed || !reported;
  }
  if (failed) state.SkipWithError("the death of the owner was not reported");
  std::sort(samples.begin(), samples.end());
  if (!samples.empty()) {
    state.counters["p50_ms"] = samples[samples.size() / 2] * 1e3;
    state.counters["max_ms"] = samples.back() * 1e3;
  }
  ::munmap(shared, sizeof(DeathShared));
}

void BM_OwnerDeath_RawRobustPthread(benchmark::State& state) {
  auto* m = static_cast<pthread_mutex_t*>(shared_anonymous(sizeof(pthread_mutex_t)));
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(m, &a);
  run_owner_death(
      state, [&] { pthread_mutex_lock(m); },
      [&] {
        const int rc = pthread_mutex_lock(m);
        if (rc == EOWNERDEAD) pthread_mutex_consistent(m);
        pthread_mutex_unlock(m);
        return rc == EOWNERDEAD;
      });
  ::munmap(m, sizeof(pthread_mutex_t));
}

void BM_OwnerDeath_NamedMutex(benchmark::State& state) {
  const std::string name = bench_name("death");
  auto mutex = shmkit::NamedMutex::create(name);
  run_owner_death(
      state,
      [&] {
        // Never destroyed: a destroyed handle would release the lock.
        auto* own = new shmkit::NamedMutex(shmkit::NamedMutex::open(name));
        own->lock();
      },
      [&] {
        const auto status = mutex.lock_until(shmkit::k_forever);
        mutex.unlock();
        return status == shmkit::LockStatus::acquired_owner_died;
      });
  shmkit::NamedMutex::remove(name);
}

// ---- event round trip ---------------------------------------------------------
// ping: parent -> child, pong: child -> parent; one iteration = one round trip.

using shmkit::bench::futex;

void BM_RoundTrip_RawFutex(benchmark::State& state) {
  auto* words = static_cast<std::atomic<std::uint32_t>*>(shared_anonymous(64));
  std::atomic<std::uint32_t>& ping = words[0];
  std::atomic<std::uint32_t>& pong = words[1];
  const pid_t child = ::fork();
  if (child == 0) {
    for (std::uint32_t seen = 0;;) {
      while (ping.load() == seen) futex(&ping, FUTEX_WAIT, seen);
      seen = ping.load();
      if (seen == UINT32_MAX) ::_exit(0);
      pong.fetch_add(1);
      futex(&pong, FUTEX_WAKE, 1);
    }
  }
  for (auto _ : state) {
    const std::uint32_t before = pong.load();
    ping.fetch_add(1);
    futex(&ping, FUTEX_WAKE, 1);
    while (pong.load() == before) futex(&pong, FUTEX_WAIT, before);
  }
  ping.store(UINT32_MAX);
  futex(&ping, FUTEX_WAKE, 1);
  ::waitpid(child, nullptr, 0);
}

void BM_RoundTrip_Eventfd(benchmark::State& state) {
  const int ping = ::eventfd(0, 0);
  const int pong = ::eventfd(0, 0);
  const pid_t child = ::fork();
  std::uint64_t value = 1;
  if (child == 0) {
    for (;;) {
      if (::read(ping, &value, sizeof value) != sizeof value || value > 1) ::_exit(0);
      value = 1;
      if (::write(pong, &value, sizeof value) != sizeof value) ::_exit(1);
    }
  }
  for (auto _ : state) {
    value = 1;
    if (::write(ping, &value, sizeof value) != sizeof value) break;
    if (::read(pong, &value, sizeof value) != sizeof value) break;
  }
  value = 2;  // "stop"
  if (::write(ping, &value, sizeof value) != sizeof value) ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ping);
  ::close(pong);
}

void BM_RoundTrip_NamedEvent(benchmark::State& state) {
  const std::string ping_name = bench_name("ping");
  const std::string pong_name = bench_name("pong");
  auto ping = shmkit::NamedEvent::create(ping_name, shmkit::EventReset::auto_reset);
  auto pong = shmkit::NamedEvent::create(pong_name, shmkit::EventReset::auto_reset);
  auto* stop = static_cast<std::atomic<int>*>(shared_anonymous(sizeof(std::atomic<int>)));
  const pid_t child = ::fork();
  if (child == 0) {
    auto my_ping = shmkit::NamedEvent::open(ping_name);
    auto my_pong = shmkit::NamedEvent::open(pong_name);
    for (;;) {
      my_ping.wait();
      if (stop->load() != 0) ::_exit(0);
      my_pong.set();
    }
  }
  for (auto _ : state) {
    ping.set();
    pong.wait();
  }
  stop->store(1);
  ping.set();
  ::waitpid(child, nullptr, 0);
  shmkit::NamedEvent::remove(ping_name);
  shmkit::NamedEvent::remove(pong_name);
}

// ---- ping-pong under a mutex and a condition variable ----------------------
// Two processes take turns: each waits (condition + mutex) for its turn, then
// hands it over and notifies. One iteration = one round trip.

struct PingPongShared {
  std::atomic<int> stop;
  int turn;  // 0: the parent's, 1: the child's; under the mutex
};

template <typename WaitTurn, typename GiveTurn>
void run_ping_pong(benchmark::State& state, PingPongShared* s, WaitTurn wait_turn,
                   GiveTurn give_turn) {
  const pid_t child = ::fork();
  if (child == 0) {
    while (wait_turn(1)) give_turn(0);
    ::_exit(0);
  }
  for (auto _ : state) {
    give_turn(1);
    wait_turn(0);
  }
  s->stop.store(1);
  give_turn(1);
  ::waitpid(child, nullptr, 0);
}

void BM_PingPong_RobustPthreadCondition(benchmark::State& state) {
  struct Shared {
    PingPongShared base;
    pthread_mutex_t m;
    pthread_cond_t c;
  };
  auto* s = new (shared_anonymous(sizeof(Shared))) Shared{};
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&s->m, &a);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
  pthread_cond_init(&s->c, &ca);
  run_ping_pong(
      state, &s->base,
      [&](int mine) {
        pthread_mutex_lock(&s->m);
        while (s->base.turn != mine && s->base.stop.load() == 0) pthread_cond_wait(&s->c, &s->m);
        pthread_mutex_unlock(&s->m);
        return s->base.stop.load() == 0;
      },
      [&](int next) {
        pthread_mutex_lock(&s->m);
        s->base.turn = next;
        pthread_mutex_unlock(&s->m);
        pthread_cond_broadcast(&s->c);
      });
  ::munmap(s, sizeof(Shared));
}

void BM_PingPong_ProcessCondition(benchmark::State& state) {
  struct Shared {
    PingPongShared base;
    shmkit::ProcessMutex m;
    shmkit::ProcessCondition c;
  };
  auto* s = new (shared_anonymous(sizeof(Shared))) Shared{};
  run_ping_pong(
      state, &s->base,
      [&](int mine) {
        std::unique_lock<shmkit::ProcessMutex> lock(s->m);
        s->c.wait(s->m, [&] { return s->base.turn == mine || s->base.stop.load() != 0; });
        return s->base.stop.load() == 0;
      },
      [&](int next) {
        {
          std::lock_guard<shmkit::ProcessMutex> lock(s->m);
          s->base.turn = next;
        }
        s->c.notify_all();
      });
  ::munmap(s, sizeof(Shared));
}

}  // namespace

BENCHMARK(BM_Uncontended_RawRobustPthread);
BENCHMARK(BM_Uncontended_NamedMutex);
BENCHMARK(BM_Uncontended_ProcessMutex);
#ifdef SHMKIT_BENCH_HAVE_BOOST
BENCHMARK(BM_Uncontended_BoostNamedMutex);
#endif
BENCHMARK(BM_Contended_RawRobustPthread)->UseRealTime();
BENCHMARK(BM_Contended_NamedMutex)->UseRealTime();
BENCHMARK(BM_Contended_ProcessMutex)->UseRealTime();
#ifdef SHMKIT_BENCH_HAVE_BOOST
BENCHMARK(BM_Contended_BoostNamedMutex)->UseRealTime();
#endif
// Each iteration starts and kills a process: a fixed count keeps it short.
BENCHMARK(BM_OwnerDeath_RawRobustPthread)
    ->UseManualTime()
    ->Iterations(40)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OwnerDeath_NamedMutex)->UseManualTime()->Iterations(40)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RoundTrip_RawFutex)->UseRealTime();
BENCHMARK(BM_RoundTrip_Eventfd)->UseRealTime();
BENCHMARK(BM_RoundTrip_NamedEvent)->UseRealTime();
BENCHMARK(BM_PingPong_RobustPthreadCondition)->UseRealTime();
BENCHMARK(BM_PingPong_ProcessCondition)->UseRealTime();
BENCHMARK_MAIN();
