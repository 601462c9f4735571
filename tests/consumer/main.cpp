// A program that knows shmkit only as an installed package (CMake's
// find_package or pkg-config). Besides sharing a segment, it checks what only
// a consumer outside the library can: that a shmkit::Error thrown inside the
// (possibly shared) library is caught by its type here, and that the
// error_code path carries the library's sentence.
#include <shmkit/shmkit.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

int main(int argc, char** argv) {
  const std::string name = argc > 1 ? argv[1] : "shmkit-consumer";
  auto shm = shmkit::NamedSharedMemory::create(name, 64);
  std::strcpy(static_cast<char*>(shm.data()), "installed package works");
  auto view = shmkit::NamedSharedMemory::open(name);
  std::printf("%s\n", static_cast<const char*>(view.data()));
  shmkit::NamedSharedMemory::remove(name);
  if (std::strcmp(static_cast<const char*>(view.data()), "installed package works") != 0) return 1;

  const std::string missing = name + "x";
  bool caught = false;
  try {
    (void)shmkit::NamedSharedMemory::open(missing);
  } catch (const shmkit::Error& e) {
    caught = e.code() == shmkit::errc::not_found;
    std::printf("caught shmkit::Error: %s\n", e.what());
  }
  if (!caught) {
    std::printf("opening '%s' did not throw shmkit::Error(errc::not_found)\n", missing.c_str());
    return 2;
  }

  std::error_code ec;
  (void)shmkit::NamedSharedMemory::open(missing, {}, ec);
  const std::string sentence = shmkit::error_message(ec);
  if (ec != shmkit::errc::not_found || sentence.find(missing) == std::string::npos) {
    std::printf("error_message(ec) does not name '%s': %s\n", missing.c_str(), sentence.c_str());
    return 3;
  }
  return 0;
}
