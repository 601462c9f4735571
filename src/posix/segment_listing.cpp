// Finding segments on POSIX systems: POSIX objects are the files of
// /dev/shm (Linux, Cygwin), SysV segments the lines of /proc/sysvipc/shm;
// on Linux, /proc/*/maps tells which processes map each one.
#include "core/name_check.hpp"
#include "core/process_identity.hpp"
#include "lifecycle/lifecycle_internal.hpp"
#include "posix/os_error.hpp"
#include "posix/sysv_segment_backend.hpp"

#include <shmkit/name.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#if defined(__linux__)
#include <sys/sysmacros.h>
#endif

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

constexpr const char* k_shm_dir = "/dev/shm";
constexpr const char* k_sysv_table = "/proc/sysvipc/shm";

void close_fd(int fd) noexcept {
  while (::close(fd) != 0 && errno == EINTR) {
  }
}

bool is_directory(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// The first bytes of an open object, with pread(): a copy taken through the
// file, never through a mapping, so an owner that truncates the object
// meanwhile only makes the copy shorter (a mapping would get SIGBUS and kill
// `shmkit list`). Only where pread fails outright on a shared memory object
// (macOS, whose objects cannot shrink once sized) is the first page mapped.
bool read_head(int fd, std::uint64_t size, std::vector<unsigned char>& head) {
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size, k_header_size));
  head.assign(want, 0);
  if (want == 0) return true;
  std::size_t done = 0;
  int error = 0;
  while (done < want) {
    const ssize_t n = ::pread(fd, head.data() + done, want - done, static_cast<off_t>(done));
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = errno;
    break;
  }
  if (done > 0 || error == 0) {
    // End of file before `want`: it shrank since fstat; this is all of it.
    head.resize(done);
    return true;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size <= 0) return false;
  want = std::min(want, static_cast<std::size_t>(st.st_size));
  void* base = ::mmap(nullptr, want, PROT_READ, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return false;
  head.assign(static_cast<const unsigned char*>(base),
              static_cast<const unsigned char*>(base) + want);
  ::munmap(base, want);
  return true;
}

std::uint64_t device_id(dev_t device) {
#if defined(__linux__)
  return (static_cast<std::uint64_t>(major(device)) << 32) | minor(device);
#else
  return static_cast<std::uint64_t>(device);
#endif
}

// Fills `object` with what stat tells.
void describe_stat(const struct stat& st, OsObject& object) {
  object.os_size = static_cast<std::uint64_t>(st.st_size < 0 ? 0 : st.st_size);
  object.owner_uid = static_cast<std::uint32_t>(st.st_uid);
  object.permissions = static_cast<std::uint32_t>(st.st_mode & 07777);
  object.os_device = device_id(st.st_dev);
  object.os_inode = static_cast<std::uint64_t>(st.st_ino);
}

// Fills `object` from an open POSIX object.
void describe_open(int fd, const struct stat& st, OsObject& object) {
  describe_stat(st, object);
  object.readable = read_head(fd, object.os_size, object.head);
}

// A glibc named semaphore is the file sem.NAME; it is not a segment.
bool is_semaphore_file(const std::string& file, const OsObject& object) {
  if (!starts_with(file, "sem.")) return false;
  if (!object.readable || object.head.size() < sizeof(std::uint64_t)) return true;
  std::uint64_t magic = 0;
  std::memcpy(&magic, object.head.data(), sizeof magic);
  return magic != k_segment_magic;
}

// Appends /dev/shm/`file` unless it is a semaphore.
void describe_file(int dir_fd, const std::string& file, std::vector<OsObject>& out) {
  struct stat st {};
  if (::fstatat(dir_fd, file.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  OsObject object;
  object.name = file;
  object.backend = Backend::posix;
  if (!S_ISREG(st.st_mode)) {
    // Anyone can plant a link, a FIFO or a directory under a name; it takes
    // the name (shm_open refuses or fails on it), so it is listed as what
    // it is, from lstat alone: a link is never followed, a FIFO never opened.
    describe_stat(st, object);
    object.os_size = 0;  // a link's own length, a directory's blocks: no object's size
    object.entry = S_ISLNK(st.st_mode) ? EntryType::symlink : EntryType::special;
    out.push_back(std::move(object));
    return;
  }
  const int fd = ::openat(dir_fd, file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat now {};
  if (fd >= 0 && ::fstat(fd, &now) == 0 && S_ISREG(now.st_mode)) {
    describe_open(fd, now, object);
  } else {
    describe_stat(st, object);
  }
  if (fd >= 0) close_fd(fd);
  if (!is_semaphore_file(file, object)) out.push_back(std::move(object));
}

void list_posix_directory(const ListQuery& query, std::vector<OsObject>& out, Failure& failure) {
  DIR* dir = ::opendir(k_shm_dir);
  if (dir == nullptr) {
    const int e = errno;
    failure.set(std::make_error_code(std::errc::function_not_supported),
                std::string("cannot list POSIX segments: ") + k_shm_dir + ": " + std::strerror(e) +
                    " (only systems that keep them in /dev/shm, such as Linux and Cygwin, can "
                    "list them)");
    return;
  }
  const int dir_fd = ::dirfd(dir);
  if (!query.exact.empty()) {
    describe_file(dir_fd, query.exact, out);
  } else {
    while (const dirent* entry = ::readdir(dir)) {
      const std::string file = entry->d_name;
      if (file == "." || file == ".." || !starts_with(file, query.prefix)) continue;
      describe_file(dir_fd, file, out);
    }
  }
  ::closedir(dir);
}

// One object by name where there is no /dev/shm to read (macOS).
void list_posix_by_name(const std::string& name, std::vector<OsObject>& out) {
  const std::string path = "/" + name;
  const int fd = ::shm_open(path.c_str(), O_RDONLY, 0);
  OsObject object;
  object.name = name;
  object.backend = Backend::posix;
  if (fd < 0) {
    if (errno == EACCES) out.push_back(std::move(object));
    return;
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0) describe_open(fd, st, object);
  close_fd(fd);
  out.push_back(std::move(object));
}

struct SysvLine {
  std::int32_t key = 0;
  int shmid = -1;
  unsigned mode = 0;
  std::uint64_t size = 0, cpid = 0, lpid = 0, nattch = 0;
  unsigned uid = 0;
};

// /proc/sysvipc/shm, or shmctl(SHM_STAT) over every index where only that
// works. Returns false if neither can be read.
bool read_sysv_table(std::vector<SysvLine>& lines) {
  std::ifstream in(k_sysv_table);
  if (in) {
    std::string line;
    std::getline(in, line);  // column titles
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      SysvLine l;
      long long key = 0;
      fields >> key >> l.shmid >> std::oct >> l.mode >> std::dec >> l.size >> l.cpid >> l.lpid >>
          l.nattch >> l.uid;
      if (!fields) continue;
      l.key = static_cast<std::int32_t>(key);
      lines.push_back(l);
    }
    return true;
  }
#if defined(__GLIBC__) && defined(SHM_STAT) && defined(SHM_INFO)
  shminfo info{};
  const int highest = ::shmctl(0, SHM_INFO, reinterpret_cast<shmid_ds*>(&info));
  if (highest < 0) return false;
  for (int index = 0; index <= highest; ++index) {
    shmid_ds ds{};
    const int id = ::shmctl(index, SHM_STAT, &ds);
    if (id < 0) continue;
    SysvLine l;
    l.key = static_cast<std::int32_t>(ds.shm_perm.__key);
    l.shmid = id;
    l.mode = static_cast<unsigned>(ds.shm_perm.mode);
    l.size = ds.shm_segsz;
    l.cpid = static_cast<std::uint64_t>(ds.shm_cpid);
    l.lpid = static_cast<std::uint64_t>(ds.shm_lpid);
    l.nattch = ds.shm_nattch;
    l.uid = ds.shm_perm.uid;
    lines.push_back(l);
  }
  return true;
#else
  return false;
#endif
}

#if defined(SHM_DEST)
constexpr unsigned k_dest_flag = SHM_DEST;
#else
constexpr unsigned k_dest_flag = 01000;
#endif

// The header's name, when the header is shmkit's and the name fits the key.
std::string sysv_header_name(const OsObject& object, std::int32_t key, bool dest) {
  if (!object.readable || object.head.size() < k_header_size) return {};
  std::uint64_t magic = 0;
  std::memcpy(&magic, object.head.data(), sizeof magic);
  if (magic != k_segment_magic) return {};
  char raw[k_header_name_size];
  std::memcpy(raw, object.head.data() + offsetof(SegmentHeader, name), sizeof raw);
  if (std::memchr(raw, '\0', sizeof raw) == nullptr) return {};
  const std::string name(raw);
  if (!is_valid_derived_name(name)) return {};
  // A removed segment's key reads as IPC_PRIVATE; its header still names it.
  if (sysv_key(name) != key && !(dest && key == 0)) return {};
  return name;
}

void list_sysv(const ListQuery& query, std::vector<OsObject>& out, Failure& failure) {
  std::vector<SysvLine> lines;
  if (!read_sysv_table(lines)) {
    failure.set(
        std::make_error_code(std::errc::function_not_supported),
        std::string("cannot list SysV segments: ") + k_sysv_table + " is not readable here");
    return;
  }
  const std::int32_t wanted = query.exact.empty() ? 0 : sysv_key(query.exact);
  for (const auto& line : lines) {
    if (!query.exact.empty() && line.key != wanted) continue;
    OsObject object;
    object.backend = Backend::sysv;
    object.os_size = line.size;
    object.owner_uid = line.uid;
    object.permissions = line.mode & 0777;
    object.os_device = 0;
    object.os_inode = static_cast<std::uint64_t>(line.shmid);
    SysvDetails details;
    details.key = line.key;
    details.shmid = line.shmid;
    details.attach_count = line.nattch;
    details.creator_pid = line.cpid;
    details.last_pid = line.lpid;
    details.marked_for_destruction = (line.mode & k_dest_flag) != 0;
    object.sysv = details;
    // Attaching is the only way to read a SysV segment.
    void* base = ::shmat(line.shmid, nullptr, SHM_RDONLY);
    if (base != reinterpret_cast<void*>(-1)) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(line.size, k_header_size));
      object.head.assign(static_cast<const unsigned char*>(base),
                         static_cast<const unsigned char*>(base) + want);
      object.readable = true;
      ::shmdt(base);
    } else if (errno == EINVAL || errno == EIDRM) {
      continue;  // removed since the table was read
    }
    object.name = sysv_header_name(object, line.key, details.marked_for_destruction);
    // A raw segment made by name has the name's key and no header.
    if (object.name.empty() && !query.exact.empty()) object.name = query.exact;
    out.push_back(std::move(object));
  }
}

#if defined(__linux__)
// Reads /proc/PID/stat's state letter; 0 if unreadable.
char proc_state(std::uint64_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%llu/stat", static_cast<unsigned long long>(pid));
  std::ifstream in(path);
  std::string text;
  if (!std::getline(in, text)) return 0;
  const auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return 0;
  return text[close + 2];
}

constexpr std::uint64_t k_sysv_device = ~std::uint64_t{0};

// Every (device, inode) of /dev/shm and SysV mappings, with the pids that
// map it. The process `skip` is left out.
std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<std::uint64_t>> scan_maps(
    std::uint64_t skip) {
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<std::uint64_t>> found;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const unsigned long long pid = std::strtoull(entry->d_name, &end, 10);
    if (pid == 0 || *end != '\0' || pid == skip) continue;
    std::ifstream maps(std::string("/proc/") + entry->d_name + "/maps");
    std::string line;
    std::pair<std::uint64_t, std::uint64_t> last{0, 0};
    while (std::getline(maps, line)) {
      // address perms offset major:minor inode path
      const auto slash = line.find('/');
      if (slash == std::string::npos) continue;
      const bool shm = line.compare(slash, 9, "/dev/shm/") == 0;
      const bool sysv = line.compare(slash, 5, "/SYSV") == 0;
      if (!shm && !sysv) continue;
      std::istringstream fields(line.substr(0, slash));
      std::string address, perms, offset, device;
      unsigned long long inode = 0;
      fields >> address >> perms >> offset >> device >> inode;
      if (!fields) continue;
      std::pair<std::uint64_t, std::uint64_t> key{k_sysv_device, inode};
      if (shm) {
        unsigned major_id = 0, minor_id = 0;
        if (std::sscanf(device.c_str(), "%x:%x", &major_id, &minor_id) != 2) continue;
        key.first = (static_cast<std::uint64_t>(major_id) << 32) | minor_id;
      }
      if (key == last) continue;  // one mapping often spans several lines
      last = key;
      auto& pids = found[key];
      if (pids.empty() || pids.back() != pid) pids.push_back(pid);
    }
  }
  ::closedir(proc);
  return found;
}
#endif

}  // namespace

std::vector<Backend> listable_backends() {
  std::vector<Backend> backends;
  if (is_directory(k_shm_dir)) backends.push_back(Backend::posix);
#if defined(__linux__) || defined(__CYGWIN__)
  backends.push_back(Backend::sysv);
#endif
  return backends;
}

void list_os_objects(Backend backend, const ListQuery& query, std::vector<OsObject>& out,
                     Failure& failure) {
  switch (backend) {
    case Backend::native:
    case Backend::posix:
      if (!is_directory(k_shm_dir) && !query.exact.empty()) {
        list_posix_by_name(query.exact, out);
      } else {
        list_posix_directory(query, out, failure);
      }
      break;
    case Backend::sysv:
      list_sysv(query, out, failure);
      break;
    case Backend::win32:
      failure.set(errc::backend_unavailable, "the win32 backend is not available on this platform");
      return;
  }
  if (!failure && query.find_mappers) {
    std::vector<OsObject*> all;
    for (auto& object : out) all.push_back(&object);
    find_mappers(all);
  }
}

void find_mappers(std::vector<OsObject*>& objects) {
#if defined(__linux__)
  if (objects.empty()) return;
  const auto found = scan_maps(0);
  for (OsObject* object : objects) {
    if (object->entry != EntryType::object) continue;  // nothing maps a link or a FIFO
    const std::uint64_t device =
        object->backend == Backend::sysv ? k_sysv_device : object->os_device;
    const auto it = found.find({device, object->os_inode});
    object->mapped_by = it == found.end() ? std::vector<std::uint64_t>{} : it->second;
  }
#else
  (void)objects;  // no portable way to tell
#endif
}

bool remove_os_entry(Backend backend, const std::string& name, Failure& failure) {
  if (backend == Backend::sysv) {
    failure.set(std::make_error_code(std::errc::function_not_supported),
                "remove " + quoted(name) + " (sysv): a SysV segment is always an object");
    return false;
  }
  const std::string path = std::string(k_shm_dir) + "/" + name;
  const int dir_fd = ::open(k_shm_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    failure.set(std::make_error_code(std::errc::function_not_supported),
                "remove " + path + ": " + k_shm_dir + " cannot be opened here");
    return false;
  }
  struct stat st {};
  bool removed = false;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    const int e = errno;
    if (e != ENOENT) {
      failure.set(errno_code(e), "remove " + path + ": " + std::strerror(e));
    }
  } else if (S_ISDIR(st.st_mode)) {
    failure.set(std::make_error_code(std::errc::is_a_directory),
                "remove " + path +
                    ": it is a directory, not a shared memory object; remove it with rmdir if it "
                    "is yours and empty");
  } else if (::unlinkat(dir_fd, name.c_str(), 0) == 0) {
    // unlinkat without AT_REMOVEDIR removes the entry itself: for a link,
    // the link, never its target.
    removed = true;
  } else {
    const int e = errno;
    if (e == EACCES || e == EPERM) {
      failure.set(errno_code(e), "remove " + path + ": permission denied, it is " +
                                     describe_owner(st.st_uid, st.st_mode) +
                                     "; run as its owner or root");
    } else if (e != ENOENT) {
      failure.set(errno_code(e), "remove " + path + ": " + std::strerror(e));
    }
  }
  close_fd(dir_fd);
  return removed;
}

bool may_be_alive(std::uint64_t pid, std::uint64_t start_time, std::uint64_t mask) noexcept {
  if (pid == 0 || pid > static_cast<std::uint64_t>(INT32_MAX)) return false;
  if (const auto actual = process_start_time(pid)) return ((*actual ^ start_time) & mask) == 0;
  return pid_may_exist(pid);
}

bool pid_may_exist(std::uint64_t pid) noexcept {
  if (pid == 0 || pid > static_cast<std::uint64_t>(INT32_MAX)) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
#if defined(__linux__)
  // A zombie exists for kill() but can no longer touch memory; a process
  // whose /proc entry is hidden from us (hidepid) cannot be judged: alive.
  try {
    const char state = proc_state(pid);
    return state != 'Z' && state != 'X';
  } catch (...) {
    return true;
  }
#else
  return true;
#endif
}

bool used_by_others(Backend backend, const Mapping& m) noexcept {
  if (backend == Backend::sysv) {
    shmid_ds ds{};
    if (::shmctl(static_cast<int>(m.handle), IPC_STAT, &ds) != 0) return true;
    return ds.shm_nattch > 1;  // this process's own mapping is one
  }
#if defined(__linux__)
  struct stat st {};
  if (::fstat(static_cast<int>(m.handle), &st) != 0) return true;
  try {
    const auto found = scan_maps(static_cast<std::uint64_t>(::getpid()));
    return found.count({device_id(st.st_dev), static_cast<std::uint64_t>(st.st_ino)}) != 0;
  } catch (...) {
    return true;
  }
#else
  (void)m;
  return false;
#endif
}

bool still_named(Backend backend, const std::string& name, const Mapping& m) noexcept {
  if (backend == Backend::sysv) {
    return ::shmget(sysv_key(name), 0, 0) == static_cast<int>(m.handle);
  }
  struct stat ours {
  }, named{};
  if (::fstat(static_cast<int>(m.handle), &ours) != 0) return false;
  const std::string path = "/" + name;
  const int fd = ::shm_open(path.c_str(), O_RDONLY, 0);
  if (fd < 0) return false;
  const bool same =
      ::fstat(fd, &named) == 0 && named.st_dev == ours.st_dev && named.st_ino == ours.st_ino;
  close_fd(fd);
  return same;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
