// The owner-death recovery pattern, in two processes:
//   owner_death crash NAME     takes the lock, half-updates the data, dies
//   owner_death recover NAME   takes the lock, is told the owner died, repairs
// (POSIX objects outlive their processes; on Win32 run both at once, or the
// mutex dies with the crashed process's last handle.)
#include <shmkit/shmkit.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace {

// The data the mutex guards: a balance kept in two halves that must agree.
struct Account {
  long debit;
  long credit;
};

int crash(const std::string& name) {
  auto mutex = shmkit::NamedMutex::open_or_create(name + ".lock");
  auto shm = shmkit::NamedSharedMemory::open_or_create(name, sizeof(Account));
  auto& account = *static_cast<Account*>(shm.data());
  mutex.lock();
  account.debit += 100;  // ...and the process dies before the credit side
  std::printf("crash: took the lock, wrote half an update, dying now\n");
  std::fflush(stdout);
  std::_Exit(1);  // no unlock, no destructors: as if killed
}

int recover(const std::string& name) {
  auto mutex = shmkit::NamedMutex::open(name + ".lock");
  auto shm = shmkit::NamedSharedMemory::open(name);
  auto& account = *static_cast<Account*>(shm.data());
  std::unique_lock<shmkit::NamedMutex> lock(mutex);
  if (mutex.owner_died()) {
    std::printf("recover: the previous owner died holding the lock (debit %ld, credit %ld)\n",
                account.debit, account.credit);
    account.credit = account.debit;  // the repair: finish the half-done update
  }
  std::printf("recover: consistent again (debit %ld, credit %ld)\n", account.debit, account.credit);
  lock.unlock();
  shmkit::NamedMutex::remove(name + ".lock");
  shmkit::NamedSharedMemory::remove(name);
  return account.debit == account.credit ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 3 && std::strcmp(argv[1], "crash") == 0) return crash(argv[2]);
    if (argc == 3 && std::strcmp(argv[1], "recover") == 0) return recover(argv[2]);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "owner_death: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: owner_death crash|recover NAME\n");
  return 2;
}
