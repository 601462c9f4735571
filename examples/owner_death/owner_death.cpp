// A struct guarded by a NamedMutex, whose holder is killed half-way through
// an update; the next process is told, repairs the struct and goes on.
//
//   owner_death hold NAME        takes the lock, updates half the struct,
//                                says so, and waits to be killed
//   owner_death wait-held NAME   returns once the holder has said so
//   owner_death recover NAME     takes the lock, learns that its owner died
//                                (LockStatus::acquired_owner_died), repairs,
//                                goes on, and removes everything
//
// ci/demo.sh runs it as a user would:
//   owner_death hold acct & holder=$!
//   owner_death wait-held acct; kill -9 $holder
//   owner_death recover acct
// (POSIX objects outlive their processes. On Win32 a mutex dies with its last
// handle: keep `wait-held` running, or another handle open, across the kill.)
#include <shmkit/shmkit.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

// The data the mutex guards: a transfer is written to both sides, which must
// agree whenever nobody holds the lock.
struct Account {
  long debit;
  long credit;
};

struct Names {
  std::string data, lock, held, never;
  explicit Names(const std::string& name)
      : data(name), lock(name + ".lock"), held(name + ".held"), never(name + ".never") {}
};

int hold(const Names& names) {
  auto mutex = shmkit::NamedMutex::open_or_create(names.lock);
  auto shm = shmkit::NamedSharedMemory::open_or_create(names.data, sizeof(Account));
  auto held = shmkit::NamedEvent::open_or_create(names.held, shmkit::EventReset::manual_reset);
  auto never = shmkit::NamedEvent::open_or_create(names.never, shmkit::EventReset::manual_reset);
  auto& account = *static_cast<Account*>(shm.data());
  mutex.lock();
  account.debit += 100;  // ...and the process is killed before the credit side
  std::printf("hold: took the lock and wrote half a transfer (debit %ld, credit %ld)\n",
              account.debit, account.credit);
  std::fflush(stdout);
  held.set();
  never.wait();  // nobody sets it: this process ends by being killed
  return 1;
}

int wait_held(const Names& names) {
  auto held = shmkit::NamedEvent::open_or_create(names.held, shmkit::EventReset::manual_reset);
  if (!held.wait_for(std::chrono::seconds(30))) {
    std::fprintf(stderr, "owner_death: the holder did not take the lock within 30 s\n");
    return 1;
  }
  return 0;
}

int recover(const Names& names) {
  auto mutex = shmkit::NamedMutex::open(names.lock);
  auto shm = shmkit::NamedSharedMemory::open(names.data);
  auto& account = *static_cast<Account*>(shm.data());
  switch (mutex.lock_for(std::chrono::seconds(10))) {
    case shmkit::LockStatus::acquired_owner_died:
      std::printf("recover: the previous owner died holding the lock (debit %ld, credit %ld)\n",
                  account.debit, account.credit);
      account.credit = account.debit;  // the repair: finish the half-done transfer
      break;
    case shmkit::LockStatus::acquired:
      std::printf("recover: the lock was free; nothing to repair\n");
      break;
    case shmkit::LockStatus::timed_out:
      std::fprintf(stderr, "owner_death: the lock is still held after 10 s\n");
      return 1;
  }
  // Going on: the mutex works as before.
  account.debit += 50;
  account.credit += 50;
  mutex.unlock();
  const shmkit::LockStatus next = mutex.lock_for(std::chrono::seconds(10));
  const bool consistent = account.debit == account.credit;
  std::printf("recover: %s again, and the next lock is %s (debit %ld, credit %ld)\n",
              consistent ? "consistent" : "INCONSISTENT",
              next == shmkit::LockStatus::acquired ? "a plain one" : "NOT a plain one",
              account.debit, account.credit);
  if (next != shmkit::LockStatus::timed_out) mutex.unlock();
  shmkit::NamedMutex::remove(names.lock);
  shmkit::NamedEvent::remove(names.held);
  shmkit::NamedEvent::remove(names.never);
  shmkit::NamedSharedMemory::remove(names.data);
  return consistent && next == shmkit::LockStatus::acquired ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 3) {
      const Names names(argv[2]);
      if (std::strcmp(argv[1], "hold") == 0) return hold(names);
      if (std::strcmp(argv[1], "wait-held") == 0) return wait_held(names);
      if (std::strcmp(argv[1], "recover") == 0) return recover(names);
    }
  } catch (const shmkit::Error& e) {
    std::fprintf(stderr, "owner_death: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: owner_death hold|wait-held|recover NAME\n");
  return 2;
}
