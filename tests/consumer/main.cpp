#include <shmkit/shmkit.hpp>

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  const std::string name = argc > 1 ? argv[1] : "shmkit-consumer";
  auto shm = shmkit::NamedSharedMemory::create(name, 64);
  std::strcpy(static_cast<char*>(shm.data()), "installed package works");
  auto view = shmkit::NamedSharedMemory::open(name);
  std::printf("%s\n", static_cast<const char*>(view.data()));
  shmkit::NamedSharedMemory::remove(name);
  return std::strcmp(static_cast<const char*>(view.data()), "installed package works");
}
