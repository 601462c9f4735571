// Backend::sysv: shmget + shmat, keyed by a hash of the name.
#include "posix/sysv_segment_backend.hpp"
#include <shmkit/config.hpp>

#include "posix/os_error.hpp"
#include "posix/owner_trust.hpp"
#include "segment/segment_header.hpp"

#include <sys/ipc.h>
#include <sys/shm.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

std::string object(const std::string& name) {
  return "segment " + quoted(name) + " (sysv)";
}

// A kernel limit from /proc/sys/kernel, as text for messages.
std::string kernel_limit(const char* which) {
  std::ifstream in(std::string("/proc/sys/kernel/") + which);
  std::string value;
  if (in >> value) return std::string("kernel.") + which + " is " + value;
  return std::string("kernel.") + which + " is unknown here";
}

// Owner and mode of a SysV segment, from /proc/sysvipc/shm, for messages.
std::string owner_of(int id) {
  std::ifstream in("/proc/sysvipc/shm");
  std::string line;
  std::getline(in, line);  // column titles
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    long long key = 0, shmid = 0, size = 0, cpid = 0, lpid = 0, nattch = 0;
    unsigned perms = 0, uid = 0;
    fields >> key >> shmid >> std::oct >> perms >> std::dec >> size >> cpid >> lpid >> nattch >>
        uid;
    if (fields && shmid == id) return describe_owner(uid, perms);
  }
  return {};
}

void set_sysv_failure(Failure& failure, int error, const std::string& name,
                      const std::string& operation, std::size_t length, int id = -1) {
  const std::string what = object(name);
  switch (error) {
    case EINVAL:
      if (operation == "create") {
        failure.set(errno_code(error),
                    "create " + what + " of " + std::to_string(length) +
                        " bytes: the kernel refused the size (" + kernel_limit("shmmax") +
                        "); raise it with sysctl, ask for less, or use the posix backend");
        return;
      }
      break;
    case ENOSPC:
      failure.set(errno_code(error), operation + " " + what +
                                         ": the system is out of SysV segments or pages (" +
                                         kernel_limit("shmmni") + ", " + kernel_limit("shmall") +
                                         "); remove unused segments (ipcs -m) or raise the limits");
      return;
    case ENOSYS:
      failure.set(errno_code(error),
                  operation + " " + what +
                      ": SysV shared memory is not available; on Cygwin start cygserver "
                      "(cygserver-config, then cygrunsrv -S cygserver), or use the posix backend");
      return;
    case EACCES:
    case EPERM:
      set_errno_failure(failure, error, what, operation, id >= 0 ? owner_of(id) : "");
      return;
    default:
      break;
  }
  set_errno_failure(failure, error, what, operation);
}

enum class Identity { ours, blank, other, unreadable };

// Whether segment `id` is the shmkit segment called `name`: two names may hash
// to one key, and remove() must not delete somebody else's segment.
Identity identify(int id, const std::string& name) {
  void* base = ::shmat(id, nullptr, SHM_RDONLY);
  if (base == reinterpret_cast<void*>(-1)) return Identity::unreadable;
  Identity result = Identity::other;
  shmid_ds ds{};
  if (::shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_segsz >= k_header_size) {
    const auto& h = *static_cast<const SegmentHeader*>(base);
    const std::uint64_t magic = h.magic.load(std::memory_order_acquire);
    char stored[k_header_name_size];
    std::memcpy(stored, h.name, sizeof stored);
    stored[sizeof stored - 1] = '\0';
    if (magic == 0) {
      result = Identity::blank;
    } else if (magic == k_segment_magic && name == stored) {
      result = Identity::ours;
    }
  }
  ::shmdt(base);
  return result;
}

}  // namespace

std::int32_t sysv_key(std::string_view name) noexcept {
  std::uint32_t hash = 2166136261u;
  for (unsigned char c : name) {
    hash ^= c;
    hash *= 16777619u;
  }
  if (hash == 0) hash = 1;  // 0 is IPC_PRIVATE: a fresh segment nobody can find
  std::int32_t key;
  std::memcpy(&key, &hash, sizeof key);
  return key;
}

Backend SysvSegmentBackend::id() const noexcept {
  return Backend::sysv;
}

Mapping SysvSegmentBackend::create(const std::string& name, std::size_t length,
                                   const SegmentOptions& options, Failure& failure) {
  const int mode = static_cast<int>(options.permissions & 0777u);
  const int id = ::shmget(sysv_key(name), length, IPC_CREAT | IPC_EXCL | mode);
  if (id < 0) {
    set_sysv_failure(failure, errno, name, "create", length);
    return {};
  }
  void* base = ::shmat(id, nullptr, 0);
  if (base == reinterpret_cast<void*>(-1)) {
    const int e = errno;
    ::shmctl(id, IPC_RMID, nullptr);
    set_sysv_failure(failure, e, name, "map", length, id);
    return {};
  }
  return Mapping{base, length, id};
}

Mapping SysvSegmentBackend::open(const std::string& name, const SegmentOptions& options,
                                 Failure& failure) {
  const int id = ::shmget(sysv_key(name), 0, 0);
  if (id < 0) {
    set_sysv_failure(failure, errno, name, "open", 0);
    return {};
  }
  shmid_ds ds{};
  if (::shmctl(id, IPC_STAT, &ds) != 0) {
    set_sysv_failure(failure, errno, name, "open", 0, id);
    return {};
  }
  const int flags = options.access == Access::read_only ? SHM_RDONLY : 0;
  void* base = ::shmat(id, nullptr, flags);
  if (base == reinterpret_cast<void*>(-1)) {
    set_sysv_failure(failure, errno, name, "map", 0, id);
    return {};
  }
  return Mapping{base, static_cast<std::size_t>(ds.shm_segsz), id};
}

// Nothing to do: shmget already charged the whole size against
// kernel.shmall, and SysV segments live on the kernel's internal shm mount,
// which has no size of its own that could fill up (unlike /dev/shm).
void SysvSegmentBackend::reserve(const std::string&, Mapping&, Failure&) {}

void SysvSegmentBackend::check_trust(const std::string& name, const Mapping& mapping,
                                     const SegmentOptions& options, bool check_permissions,
                                     Failure& failure) {
  shmid_ds ds{};
  if (::shmctl(static_cast<int>(mapping.handle), IPC_STAT, &ds) != 0) {
    set_sysv_failure(failure, errno, name, "inspect", 0, static_cast<int>(mapping.handle));
    return;
  }
  // The creator counts too: the owner of a segment may hand it to any uid
  // (IPC_SET), so an owner of root proves nothing about who made it.
  const PosixOwner owner{static_cast<unsigned>(ds.shm_perm.uid),
                         static_cast<unsigned>(ds.shm_perm.cuid),
                         static_cast<unsigned>(ds.shm_perm.mode)};
  check_posix_owner(object(name), owner, options, check_permissions, failure);
}

void SysvSegmentBackend::close(Mapping& mapping) noexcept {
  if (mapping.base != nullptr) ::shmdt(mapping.base);
  mapping = Mapping{};
}

bool SysvSegmentBackend::remove(const std::string& name, const SegmentOptions& options,
                                Failure& failure) {
  const int id = ::shmget(sysv_key(name), 0, 0);
  if (id < 0) {
    if (errno == ENOENT) return false;
    set_sysv_failure(failure, errno, name, "remove", 0);
    return false;
  }
  if (!options.raw && identify(id, name) == Identity::other) {
    failure.set(errc::name_collision,
                "remove " + object(name) +
                    ": its SysV key belongs to a segment with another name or no shmkit "
                    "header; not removed (pass SegmentOptions::raw to remove it anyway)");
    return false;
  }
  if (::shmctl(id, IPC_RMID, nullptr) != 0) {
    if (errno == EINVAL || errno == EIDRM) return false;  // removed meanwhile
    set_sysv_failure(failure, errno, name, "remove", 0, id);
    return false;
  }
  return true;
}

bool SysvSegmentBackend::exists(const std::string& name, const SegmentOptions& options,
                                Failure& failure) {
  const int id = ::shmget(sysv_key(name), 0, 0);
  if (id < 0) {
    if (errno == ENOENT) return false;
    set_sysv_failure(failure, errno, name, "look up", 0);
    return false;
  }
  return options.raw || identify(id, name) != Identity::other;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
