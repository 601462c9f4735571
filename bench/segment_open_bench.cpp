// What a shmkit segment costs to create and to open, against the same work
// done with raw shm_open + ftruncate + mmap, measured in the same run.
#include <shmkit/shmkit.hpp>

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>
#include <string>

namespace {

constexpr std::size_t k_size = 4096;

std::string bench_name(const char* what) {
  char text[31];
  std::snprintf(text, sizeof text, "bench-%s-%d", what, static_cast<int>(::getpid()));
  return text;
}

// Baseline: create, size, map, touch, unmap, close, unlink.
void BM_RawCreate(benchmark::State& state) {
  const std::string name = "/" + bench_name("rawc");
  for (auto _ : state) {
    const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ::ftruncate(fd, k_size) != 0) state.SkipWithError("shm_open failed");
    void* p = ::mmap(nullptr, k_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    static_cast<volatile char*>(p)[0] = 1;
    ::munmap(p, k_size);
    ::close(fd);
    ::shm_unlink(name.c_str());
  }
}

void BM_ShmkitCreate(benchmark::State& state) {
  const std::string name = bench_name("kitc");
  for (auto _ : state) {
    auto shm = shmkit::NamedSharedMemory::create(name, k_size);
    static_cast<volatile char*>(shm.data())[0] = 1;
    shm.close();
    shmkit::NamedSharedMemory::remove(name);
  }
}

// Baseline: open an existing object, learn its size, map, touch, unmap.
void BM_RawOpen(benchmark::State& state) {
  const std::string name = "/" + bench_name("rawo");
  const int owner = ::shm_open(name.c_str(), O_RDWR | O_CREAT, 0600);
  if (owner < 0 || ::ftruncate(owner, k_size) != 0) state.SkipWithError("shm_open failed");
  for (auto _ : state) {
    const int fd = ::shm_open(name.c_str(), O_RDWR, 0);
    struct stat st {};
    ::fstat(fd, &st);
    void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE,
                     MAP_SHARED, fd, 0);
    static_cast<volatile char*>(p)[0] = 1;
    ::munmap(p, static_cast<std::size_t>(st.st_size));
    ::close(fd);
  }
  ::close(owner);
  ::shm_unlink(name.c_str());
}

void BM_ShmkitOpen(benchmark::State& state) {
  const std::string name = bench_name("kito");
  auto owner = shmkit::NamedSharedMemory::create(name, k_size);
  for (auto _ : state) {
    auto shm = shmkit::NamedSharedMemory::open(name);
    static_cast<volatile char*>(shm.data())[0] = 1;
  }
  shmkit::NamedSharedMemory::remove(name);
}

}  // namespace

BENCHMARK(BM_RawCreate);
BENCHMARK(BM_ShmkitCreate);
BENCHMARK(BM_RawOpen);
BENCHMARK(BM_ShmkitOpen);
BENCHMARK_MAIN();
