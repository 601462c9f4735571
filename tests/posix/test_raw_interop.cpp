// SegmentOptions::raw talks to programs that use plain shm_open / shmget.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/test_names.hpp"
#include "posix/sysv_segment_backend.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstring>

using namespace shmkit;

TEST_SUITE("raw") {
  TEST_CASE("posix: plain shm_open code and shmkit raw see each other's bytes") {
    test::NameGuard guard(test::unique_name("rawp"));
    const std::string os_name = "/" + guard.name();
    // Foreign writer: exactly what a program without shmkit does.
    const int fd = ::shm_open(os_name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 5000) == 0);
    void* base = ::mmap(nullptr, 5000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(base != MAP_FAILED);
    std::strcpy(static_cast<char*>(base), "from plain code");

    SegmentOptions raw;
    raw.raw = true;
    auto shm = NamedSharedMemory::open(guard.name(), raw);
    CHECK(shm.size() == 5000);  // what the OS reports, exactly
    CHECK(shm.attached_processes().empty());
    CHECK(std::string(static_cast<char*>(shm.data())) == "from plain code");
    std::strcpy(static_cast<char*>(shm.data()) + 100, "from shmkit");
    CHECK(std::string(static_cast<char*>(base) + 100) == "from shmkit");

    // Without raw, shmkit refuses a segment it did not make.
    std::error_code ec;
    SegmentOptions strict;
    strict.open_timeout = std::chrono::milliseconds(50);
    (void)NamedSharedMemory::open(guard.name(), strict, ec);
    CHECK((ec == errc::incompatible_layout || ec == errc::not_ready));
    ::munmap(base, 5000);
    ::close(fd);
  }

  TEST_CASE("posix: a raw shmkit segment is a plain object of exactly the size") {
    test::NameGuard guard(test::unique_name("rawq"));
    SegmentOptions raw;
    raw.raw = true;
    auto shm = NamedSharedMemory::create(guard.name(), 3000, raw);
    std::strcpy(static_cast<char*>(shm.data()), "made by shmkit");
    const int fd = ::shm_open(("/" + guard.name()).c_str(), O_RDONLY, 0);
    REQUIRE(fd >= 0);
    struct stat st {};
    REQUIRE(::fstat(fd, &st) == 0);
    CHECK(st.st_size == 3000);
    void* base = ::mmap(nullptr, 3000, PROT_READ, MAP_SHARED, fd, 0);
    REQUIRE(base != MAP_FAILED);
    CHECK(std::string(static_cast<const char*>(base)) == "made by shmkit");
    ::munmap(base, 3000);
    ::close(fd);
  }

  TEST_CASE("sysv: plain shmget code and shmkit raw interoperate through the name's key") {
    test::NameGuard guard(test::unique_name("raws"));
    const key_t key = detail::sysv_key(guard.name());
    const int id = ::shmget(key, 6000, IPC_CREAT | IPC_EXCL | 0600);
    REQUIRE(id >= 0);
    void* base = ::shmat(id, nullptr, 0);
    REQUIRE(base != reinterpret_cast<void*>(-1));
    std::strcpy(static_cast<char*>(base), "from shmget");

    SegmentOptions raw;
    raw.backend = Backend::sysv;
    raw.raw = true;
    auto shm = NamedSharedMemory::open(guard.name(), raw);
    CHECK(shm.size() == 6000);
    CHECK(shm.native_handle() == id);
    CHECK(std::string(static_cast<char*>(shm.data())) == "from shmget");
    std::strcpy(static_cast<char*>(shm.data()) + 10, "shmkit");
    CHECK(std::string(static_cast<char*>(base) + 10) == "shmkit");

    // remove() without raw will not delete a segment that is not shmkit's.
    std::error_code ec;
    SegmentOptions strict;
    strict.backend = Backend::sysv;
    CHECK_FALSE(NamedSharedMemory::remove(guard.name(), strict, ec));
    CHECK(ec == errc::name_collision);
    CHECK(NamedSharedMemory::remove(guard.name(), raw));
    ::shmdt(base);
  }

  TEST_CASE("sysv keys are stable, never IPC_PRIVATE, and differ between names") {
    CHECK(detail::sysv_key("spooler") == detail::sysv_key("spooler"));
    CHECK(detail::sysv_key("spooler") != detail::sysv_key("spooler2"));
    CHECK(detail::sysv_key("a") != IPC_PRIVATE);
  }
}
