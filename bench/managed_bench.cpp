// Managed segments: allocate/deallocate of mixed sizes and find by name, for
// shmkit's ManagedSegment against Boost.Interprocess managed_shared_memory
// (when its headers are installed) and the process's own heap (malloc/free;
// std::unordered_map<std::string, ...> for find), measured in the same run.
// ProcessMutex against a robust pthread mutex is in sync_bench.cpp
// (Uncontended_ProcessMutex, Uncontended_RawRobustPthread).
//
// alloc/<impl>/<live>: a steady state of <live> blocks; each iteration frees
// one at a random slot and allocates a new one of the next size in a fixed
// pseudo-random sequence (16 B to 4 KiB, log-uniform), so blocks die in
// random order and the heap stays fragmented. One iteration = one free + one
// allocate. find/<impl>/1000: 1000 named objects, looked up by existing
// names in a fixed random order; one iteration = one lookup.
#include <shmkit/managed_segment.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#if __has_include(<boost/interprocess/managed_shared_memory.hpp>)
#include <boost/interprocess/managed_shared_memory.hpp>
#define SHMKIT_BENCH_BOOST 1
#endif

namespace {

constexpr std::size_t k_segment_size = 64 << 20;
constexpr std::size_t k_sequence = 1 << 16;  // sizes and slots, then repeats
constexpr std::size_t k_named = 1000;

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The same sizes and slots for every implementation.
struct Workload {
  std::vector<std::size_t> sizes;
  std::vector<std::size_t> slots;
  explicit Workload(std::size_t live) {
    std::uint64_t state = 12;
    sizes.reserve(k_sequence);
    slots.reserve(k_sequence);
    for (std::size_t i = 0; i < k_sequence; ++i) {
      const std::uint64_t r = splitmix(state);
      const std::size_t octave = std::size_t{16} << (r % 9);  // 16 ... 4096
      const std::size_t size = octave + (r >> 8) % octave;
      sizes.push_back(size > 4096 ? 4096 : size);
      slots.push_back(static_cast<std::size_t>(splitmix(state) % live));
    }
  }
};

std::string unique_name(const char* what) {
  static std::uint64_t state =
      std::random_device{}() ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  char text[48];
  std::snprintf(text, sizeof text, "bench-%s-%08llx", what,
                static_cast<unsigned long long>(splitmix(state) & 0xffffffffu));
  return text;
}

std::vector<std::string> object_names() {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < k_named; ++i) {
    char text[32];
    std::snprintf(text, sizeof text, "object-%04zu", i);
    names.emplace_back(text);
  }
  return names;
}

std::vector<std::size_t> lookup_order() {
  std::vector<std::size_t> order;
  std::uint64_t state = 34;
  for (std::size_t i = 0; i < k_sequence; ++i) order.push_back(splitmix(state) % k_named);
  return order;
}

// The steady-state loop, the same for every heap.
template <class Allocate, class Free>
void churn(benchmark::State& state, Allocate allocate, Free release) {
  const auto live = static_cast<std::size_t>(state.range(0));
  const Workload work(live);
  std::vector<void*> blocks(live);
  for (std::size_t i = 0; i < live; ++i) blocks[i] = allocate(work.sizes[i]);
  std::size_t k = live;
  for (auto _ : state) {
    const std::size_t at = k % k_sequence;
    void*& slot = blocks[work.slots[at]];
    release(slot);
    slot = allocate(work.sizes[at]);
    benchmark::DoNotOptimize(slot);
    ++k;
  }
  for (void* p : blocks) release(p);
  state.SetItemsProcessed(state.iterations());
}

void BM_Alloc_Malloc(benchmark::State& state) {
  churn(
      state, [](std::size_t n) { return std::malloc(n); }, [](void* p) { std::free(p); });
}

void BM_Alloc_Shmkit(benchmark::State& state) {
  const std::string name = unique_name("kit");
  auto seg = shmkit::ManagedSegment::create(name, k_segment_size);
  churn(
      state, [&seg](std::size_t n) { return seg.allocate(n); },
      [&seg](void* p) { seg.deallocate(p); });
  if (!seg.check().consistent) state.SkipWithError("shmkit heap inconsistent after the run");
  seg.close();
  (void)shmkit::ManagedSegment::remove(name);
}

void BM_Find_UnorderedMap(benchmark::State& state) {
  const auto names = object_names();
  const auto order = lookup_order();
  std::unordered_map<std::string, std::uint64_t> map;
  for (std::size_t i = 0; i < k_named; ++i) map.emplace(names[i], i);
  std::size_t k = 0;
  for (auto _ : state) {
    auto it = map.find(names[order[k++ % k_sequence]]);
    benchmark::DoNotOptimize(it->second);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Find_Shmkit(benchmark::State& state) {
  const std::string name = unique_name("kitf");
  auto seg = shmkit::ManagedSegment::create(name, k_segment_size);
  const auto names = object_names();
  const auto order = lookup_order();
  for (std::size_t i = 0; i < k_named; ++i) (void)seg.construct<std::uint64_t>(names[i], i);
  std::size_t k = 0;
  for (auto _ : state) {
    std::uint64_t* p = seg.find<std::uint64_t>(names[order[k++ % k_sequence]]);
    benchmark::DoNotOptimize(*p);
  }
  state.SetItemsProcessed(state.iterations());
  seg.close();
  (void)shmkit::ManagedSegment::remove(name);
}

#ifdef SHMKIT_BENCH_BOOST
namespace bip = boost::interprocess;

void BM_Alloc_Boost(benchmark::State& state) {
  const std::string name = unique_name("bip");
  bip::shared_memory_object::remove(name.c_str());
  {
    bip::managed_shared_memory seg(bip::create_only, name.c_str(), k_segment_size);
    churn(
        state, [&seg](std::size_t n) { return seg.allocate(n); },
        [&seg](void* p) { seg.deallocate(p); });
  }
  bip::shared_memory_object::remove(name.c_str());
}

void BM_Find_Boost(benchmark::State& state) {
  const std::string name = unique_name("bipf");
  bip::shared_memory_object::remove(name.c_str());
  {
    bip::managed_shared_memory seg(bip::create_only, name.c_str(), k_segment_size);
    const auto names = object_names();
    const auto order = lookup_order();
    for (std::size_t i = 0; i < k_named; ++i) {
      (void)seg.construct<std::uint64_t>(names[i].c_str())(i);
    }
    std::size_t k = 0;
    for (auto _ : state) {
      std::uint64_t* p = seg.find<std::uint64_t>(names[order[k++ % k_sequence]].c_str()).first;
      benchmark::DoNotOptimize(*p);
    }
    state.SetItemsProcessed(state.iterations());
  }
  bip::shared_memory_object::remove(name.c_str());
}
#endif

void register_all() {
  const auto live = [](benchmark::internal::Benchmark* b) { b->Arg(100)->Arg(1000)->Arg(10000); };
  live(benchmark::RegisterBenchmark("alloc/shmkit", BM_Alloc_Shmkit));
#ifdef SHMKIT_BENCH_BOOST
  live(benchmark::RegisterBenchmark("alloc/boost", BM_Alloc_Boost));
#endif
  live(benchmark::RegisterBenchmark("alloc/malloc", BM_Alloc_Malloc));
  benchmark::RegisterBenchmark("find/shmkit", BM_Find_Shmkit)->Arg(k_named);
#ifdef SHMKIT_BENCH_BOOST
  benchmark::RegisterBenchmark("find/boost", BM_Find_Boost)->Arg(k_named);
#endif
  benchmark::RegisterBenchmark("find/unordered_map", BM_Find_UnorderedMap)->Arg(k_named);
}

}  // namespace

// A bare run is the whole suite (about a minute): ten short repetitions in
// random order, so that a noisy phase of a shared machine spreads over every
// implementation and the medians compare like with like. Flags given on the
// command line come later and win.
int main(int argc, char** argv) {
  static char repetitions[] = "--benchmark_repetitions=10";
  static char min_time[] = "--benchmark_min_time=0.1";
  static char interleave[] = "--benchmark_enable_random_interleaving=true";
  static char aggregates[] = "--benchmark_display_aggregates_only=true";
  std::vector<char*> args{argv[0], repetitions, min_time, interleave, aggregates};
  args.insert(args.end(), argv + 1, argv + argc);
  int count = static_cast<int>(args.size());
  args.push_back(nullptr);
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i == 0 ? "" : " ") + std::string(argv[i]);
  benchmark::AddCustomContext("command", command);
  benchmark::AddCustomContext("default_flags", std::string(repetitions) + " " + min_time + " " +
                                                   interleave + " " + aggregates);
#ifdef SHMKIT_BENCH_BOOST
  benchmark::AddCustomContext("boost", "Boost.Interprocess managed_shared_memory");
#else
  benchmark::AddCustomContext("boost", "not found: no Boost rows");
#endif
  register_all();
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
