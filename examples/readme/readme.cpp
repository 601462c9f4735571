// The README's example, kept identical to it by the readme_in_sync test.
#include <shmkit/shmkit.hpp>

#include <cstring>

int main() {
  // Process A: create 4 KiB, owner-only, failing if the name is taken.
  auto shm = shmkit::NamedSharedMemory::create("telemetry", 4096);
  std::strcpy(static_cast<char*>(shm.data()), "hello");

  // Process B (here the same one): open it by name; size() is exact.
  auto view = shmkit::NamedSharedMemory::open("telemetry");
  bool same = std::strcmp(static_cast<char*>(view.data()), "hello") == 0;

  // POSIX segments outlive their processes until removed.
  shmkit::NamedSharedMemory::remove("telemetry");
  return same ? 0 : 1;
}
