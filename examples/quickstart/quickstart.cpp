// Two processes share one segment:
//   quickstart write NAME "message"   creates NAME, writes the message, and
//                                     waits until a reader has seen it
//   quickstart read NAME              opens NAME and prints the message
// The writer removes the segment when it is done.
#include <shmkit/shmkit.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

// The layout both processes agree on.
struct Mailbox {
  std::atomic<int> readers_done;
  char text[256];
};

int write(const std::string& name, const std::string& message) {
  auto shm = shmkit::NamedSharedMemory::create(name, sizeof(Mailbox));
  auto* box = new (shm.data()) Mailbox{};
  std::snprintf(box->text, sizeof box->text, "%s", message.c_str());
  std::printf("writer: created '%s' (%zu bytes, %s backend), wrote \"%s\"\n", name.c_str(),
              shm.size(), shmkit::to_string(shm.backend()), box->text);
  std::fflush(stdout);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (box->readers_done.load() == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  shmkit::NamedSharedMemory::remove(name);
  std::printf("writer: a reader is done; removed '%s'\n", name.c_str());
  return box->readers_done.load() > 0 ? 0 : 1;
}

int read(const std::string& name) {
  shmkit::SegmentOptions options;
  options.open_timeout = std::chrono::seconds(5);
  // The writer may not have created it yet: retry for a few seconds.
  std::error_code ec;
  shmkit::NamedSharedMemory shm;
  for (int attempt = 0; attempt < 500; ++attempt) {
    shm = shmkit::NamedSharedMemory::open(name, options, ec);
    if (ec != shmkit::errc::not_found) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (ec) {
    std::fprintf(stderr, "reader: %s\n", ec.message().c_str());
    return 1;
  }
  auto* box = static_cast<Mailbox*>(shm.data());
  std::printf("reader: opened '%s' (%zu bytes), read \"%.*s\"\n", name.c_str(), shm.size(),
              static_cast<int>(sizeof box->text), box->text);
  std::printf("reader: processes attached: %zu\n", shm.attached_processes().size());
  box->readers_done.fetch_add(1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 4 && std::strcmp(argv[1], "write") == 0) return write(argv[2], argv[3]);
    if (argc == 3 && std::strcmp(argv[1], "read") == 0) return read(argv[2]);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "quickstart: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: quickstart write NAME MESSAGE | quickstart read NAME\n");
  return 2;
}
