// Backend::posix: shm_open + ftruncate + mmap.
#include "posix/posix_segment_backend.hpp"
#include <shmkit/config.hpp>

#include "posix/os_error.hpp"
#include "posix/owner_trust.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

std::string os_name(const std::string& name) {
  return "/" + name;
}
std::string object(const std::string& name) {
  return "segment " + quoted(name) + " (posix)";
}

// Where glibc keeps the objects; used only to describe who owns one.
std::string owner_of(const std::string& name) {
#if defined(__linux__) || defined(__CYGWIN__)
  return describe_owner("/dev/shm/" + name);
#else
  (void)name;
  return {};
#endif
}

// The portable path (Cygwin, macOS) has no MAP_POPULATE; common code then
// touches the pages itself.
#if defined(MAP_POPULATE) && !defined(SHMKIT_PORTABLE_POSIX)
constexpr int k_populate_flag = MAP_POPULATE;
#else
constexpr int k_populate_flag = 0;
#endif
constexpr bool k_can_populate = k_populate_flag != 0;

// Cygwin keeps POSIX objects as files in /dev/shm, which a fresh installation
// lacks: shm_open(O_CREAT) then fails with ENOENT, which must not read as "no
// such segment".
void explain_missing_directory(Failure& failure, const std::string& name) {
#if defined(__CYGWIN__) || defined(SHMKIT_PORTABLE_POSIX)
  struct stat st {};
  if (::stat("/dev/shm", &st) != 0) {
    failure.set(errno_code(ENOENT), "create " + object(name) +
                                        ": the directory /dev/shm does not exist; create it "
                                        "(mkdir -p /dev/shm, as Cygwin needs) and try again");
    return;
  }
#endif
  set_errno_failure(failure, ENOENT, object(name), "create");
}

// posix_fallocate gives the object's pages their memory now. Without it
// tmpfs hands out pages at the first write, and a write into a page that a
// full /dev/shm cannot supply kills the process with SIGBUS. macOS has no
// posix_fallocate: there an object is reserved by the kernel as it is sized.
#if defined(__linux__) || defined(__CYGWIN__) || defined(__FreeBSD__) || defined(__NetBSD__)
constexpr bool k_can_reserve = true;
int reserve_range(int fd, std::size_t offset, std::size_t length) noexcept {
  int e;
  do {
    e = ::posix_fallocate(fd, static_cast<off_t>(offset), static_cast<off_t>(length));
  } while (e == EINTR);
  return e;
}
#else
constexpr bool k_can_reserve = false;
int reserve_range(int, std::size_t, std::size_t) noexcept {
  return 0;
}
#endif

// The header's page, reserved before anything is written to it.
constexpr std::size_t k_first_page = 4096;

std::string bytes(unsigned long long n) {
  return std::to_string(n) + " bytes";
}

// ENOSPC from reserving: say how much was asked, how much is free, and how
// to get more, in the terms of the usual places /dev/shm is too small.
void set_no_space_failure(Failure& failure, int fd, const std::string& name, std::size_t length) {
  std::string free_text;
  struct statvfs vfs {};
  if (::fstatvfs(fd, &vfs) == 0) {
    const auto free_bytes = static_cast<unsigned long long>(vfs.f_bavail) * vfs.f_frsize;
    const auto total_bytes = static_cast<unsigned long long>(vfs.f_blocks) * vfs.f_frsize;
    free_text = ": /dev/shm has " + bytes(free_bytes) + " free of " + bytes(total_bytes);
  }
  failure.set(errno_code(ENOSPC),
              "create " + object(name) + ": cannot reserve " + bytes(length) + free_text +
                  "; ask for less, remove unused objects (shmkit clean), or enlarge /dev/shm "
                  "(docker run --shm-size=SIZE, a Kubernetes emptyDir with medium: Memory and "
                  "a sizeLimit, or mount -o remount,size=SIZE /dev/shm)");
}

void close_fd(int fd) noexcept {
  while (::close(fd) != 0 && errno == EINTR) {
  }
}

// A name taken by a symbolic link (planted in /dev/shm by someone: shmkit
// never makes one) gets its own sentence; shm_open refuses to follow it.
void set_taken_failure(Failure& failure, const std::string& name, int error) {
#if defined(__linux__) || defined(__CYGWIN__)
  struct stat st {};
  const std::string path = "/dev/shm/" + name;
  if ((error == EEXIST || error == ELOOP) && ::lstat(path.c_str(), &st) == 0 &&
      S_ISLNK(st.st_mode)) {
    failure.set(error == EEXIST ? make_error_code(errc::already_exists) : errno_code(ELOOP),
                object(name) +
                    " is a symbolic link in /dev/shm, not a shared memory object: "
                    "shmkit never follows one; remove the link (shmkit rm " +
                    name + ") and try again");
    return;
  }
#endif
  set_errno_failure(failure, error, object(name), error == EEXIST ? "create" : "open");
}

// Where glibc's shm_open keeps its objects on Linux.
constexpr const char* k_dev_shm = "/dev/shm";

#if defined(__linux__) && !defined(SHMKIT_PORTABLE_POSIX) && defined(O_TMPFILE)
bool unnamed_supported() noexcept {
  static const bool supported = [] {
    if (::access("/proc/self/fd", X_OK) != 0) return false;
    const int fd = ::open(k_dev_shm, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    close_fd(fd);
    return true;
  }();
  return supported;
}

// An unnamed file in /dev/shm (O_TMPFILE): until publish() links it, no
// other process can find it, and it vanishes with its last descriptor. Sets
// `unnamed` to false (and returns -1) where this is not possible, so that
// the caller creates the named object directly; a name that is already
// taken is reported at once, before the caller does any slow work.
int create_unnamed(const std::string& name, mode_t mode, bool& unnamed, Failure& failure) {
  unnamed = false;
  struct stat st {};
  const std::string named = std::string(k_dev_shm) + "/" + name;
  if (::lstat(named.c_str(), &st) == 0) {
    set_taken_failure(failure, name, EEXIST);
    return -1;
  }
  // linkat() below goes through /proc/self/fd; without /proc, fall back.
  if (!unnamed_supported()) return -1;
  const int fd = ::open(k_dev_shm, O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
  if (fd < 0) return -1;  // no /dev/shm, or a file system without O_TMPFILE
  unnamed = true;
  return fd;
}

// Gives the finished object its name; EEXIST if another creator won.
bool link_unnamed(int fd, const std::string& name, Failure& failure) {
  const std::string source = "/proc/self/fd/" + std::to_string(fd);
  const std::string target = std::string(k_dev_shm) + "/" + name;
  if (::linkat(AT_FDCWD, source.c_str(), AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW) == 0) {
    return true;
  }
  const int e = errno;
  if (e == EEXIST) {
    set_taken_failure(failure, name, e);
  } else {
    set_errno_failure(failure, e, object(name), "name", e == EACCES ? owner_of(name) : "");
  }
  return false;
}
#else
bool unnamed_supported() noexcept {
  return false;
}
int create_unnamed(const std::string&, mode_t, bool& unnamed, Failure&) {
  unnamed = false;
  return -1;
}
bool link_unnamed(int, const std::string&, Failure&) {
  return true;
}
#endif

int map_flags(const SegmentOptions& options) {
  return MAP_SHARED | (options.populate ? k_populate_flag : 0);
}

}  // namespace

Backend PosixSegmentBackend::id() const noexcept {
  return Backend::posix;
}

Mapping PosixSegmentBackend::create(const std::string& name, std::size_t length,
                                    const SegmentOptions& options, Failure& failure) {
  const std::string path = os_name(name);
  const mode_t mode = static_cast<mode_t>(options.permissions & 0777u);
  // Linux: made without a name, and named only once it is finished
  // (publish()), so a creator killed at any instant leaves nothing behind.
  bool unnamed = false;
  int fd = create_unnamed(name, mode, unnamed, failure);
  if (failure) return {};
  if (!unnamed) fd = ::shm_open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) {
      explain_missing_directory(failure, name);
    } else if (e == EEXIST) {
      set_taken_failure(failure, name, e);
    } else {
      set_errno_failure(failure, e, object(name), "create", e == EACCES ? owner_of(name) : "");
    }
    return {};
  }
  // From here on a failure must not leave a half-made object under the name.
  auto discard = [&] {
    if (!unnamed) ::shm_unlink(path.c_str());
    close_fd(fd);
    return Mapping{};
  };
  auto fail = [&](const char* operation) {
    const int e = errno;
    set_errno_failure(failure, e, object(name), operation);
    return discard();
  };
  auto no_space = [&] {
    set_no_space_failure(failure, fd, name, length);
    return discard();
  };
  // shm_open applied the umask; the caller asked for exactly `mode`.
  if (::fchmod(fd, mode) != 0) return fail("set permissions of");
  if (::ftruncate(fd, static_cast<off_t>(length)) != 0) {
    // EFBIG: larger than the file system could ever hold.
    if (errno == EFBIG || errno == ENOSPC) return no_space();
    return fail("size");
  }
  if (const int e = reserve_range(fd, 0, std::min(length, k_first_page)); e != 0) {
    if (e == ENOSPC) return no_space();
    errno = e;
    return fail("reserve memory for");
  }
  void* base = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, map_flags(options), fd, 0);
  if (base == MAP_FAILED) return fail("map");
  Mapping m{base, length, fd, options.populate && k_can_populate};
  m.unnamed = unnamed;
  return m;
}

bool PosixSegmentBackend::creates_unnamed() const noexcept {
  return unnamed_supported();
}

void PosixSegmentBackend::publish(const std::string& name, Mapping& mapping, Failure& failure) {
  if (!mapping.unnamed) return;
  if (link_unnamed(static_cast<int>(mapping.handle), name, failure)) mapping.unnamed = false;
}

Mapping PosixSegmentBackend::open(const std::string& name, const SegmentOptions& options,
                                  Failure& failure) {
  const bool writable = options.access == Access::read_write;
  const int fd = ::shm_open(os_name(name).c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
  if (fd < 0) {
    const int e = errno;
    if (e == ELOOP) {
      set_taken_failure(failure, name, e);
    } else {
      set_errno_failure(failure, e, object(name), "open", e == EACCES ? owner_of(name) : "");
    }
    return {};
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    close_fd(fd);
    set_errno_failure(failure, e, object(name), "inspect");
    return {};
  }
  if (st.st_size <= 0) {
    // Its creator is between shm_open and ftruncate (or died there).
    close_fd(fd);
    failure.set(errc::not_ready, object(name) +
                                     " has no size yet: its creator has not finished "
                                     "creating it, or died doing so; remove it");
    return {};
  }
  const auto length = static_cast<std::size_t>(st.st_size);
  const int protection = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  void* base = ::mmap(nullptr, length, protection, map_flags(options), fd, 0);
  if (base == MAP_FAILED) {
    const int e = errno;
    close_fd(fd);
    set_errno_failure(failure, e, object(name), "map");
    return {};
  }
  return Mapping{base, length, fd, options.populate && k_can_populate};
}

void PosixSegmentBackend::reserve(const std::string& name, Mapping& mapping, Failure& failure) {
  if (!k_can_reserve || mapping.length <= k_first_page) return;
  const int fd = static_cast<int>(mapping.handle);
  const int e = reserve_range(fd, 0, mapping.length);
  if (e == 0) return;
  if (e == ENOSPC) {
    set_no_space_failure(failure, fd, name, mapping.length);
  } else {
    set_errno_failure(failure, e, object(name), "reserve memory for");
  }
}

void PosixSegmentBackend::check_trust(const std::string& name, const Mapping& mapping,
                                      const SegmentOptions& options, bool check_permissions,
                                      Failure& failure) {
  struct stat st {};
  if (::fstat(static_cast<int>(mapping.handle), &st) != 0) {
    set_errno_failure(failure, errno, object(name), "inspect");
    return;
  }
  const PosixOwner owner{st.st_uid, st.st_uid, static_cast<unsigned>(st.st_mode)};
  check_posix_owner(object(name), owner, options, check_permissions, failure);
}

void PosixSegmentBackend::close(Mapping& mapping) noexcept {
  if (mapping.base != nullptr) ::munmap(mapping.base, mapping.length);
  if (mapping.handle >= 0) close_fd(static_cast<int>(mapping.handle));
  mapping = Mapping{};
}

bool PosixSegmentBackend::remove(const std::string& name, const SegmentOptions&, Failure& failure) {
  if (::shm_unlink(os_name(name).c_str()) == 0) return true;
  const int e = errno;
  if (e == ENOENT) return false;
  set_errno_failure(failure, e, object(name), "remove", e == EACCES ? owner_of(name) : "");
  return false;
}

bool PosixSegmentBackend::exists(const std::string& name, const SegmentOptions&, Failure& failure) {
  // O_RDONLY without O_CREAT touches nothing; EACCES still proves existence.
  const int fd = ::shm_open(os_name(name).c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd >= 0) {
    close_fd(fd);
    return true;
  }
  const int e = errno;
  if (e == ENOENT) return false;
  if (e == EACCES) return true;
  set_errno_failure(failure, e, object(name), "look up");
  return false;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
