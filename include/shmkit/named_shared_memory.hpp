// A named block of memory shared between processes.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/attached_process.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
struct SegmentAccess;
}

// POSIX: the shm_open descriptor; SysV: the shmid; Win32: the HANDLE's value.
using NativeHandle = std::intptr_t;

// A move-only handle to a mapped segment. The mapping lives until the handle is
// destroyed; whether the segment itself outlives it depends on the backend
// (POSIX and SysV: until remove(); Win32: until its last handle closes).
//
// Every operation comes in two forms, like std::filesystem: one throws
// std::system_error whose what() names the segment and says what to do, the
// other takes std::error_code& and never throws.
class SHMKIT_EXPORT NamedSharedMemory {
 public:
  // Creates a new segment of exactly `size` bytes, filled with zeros. Fails
  // with errc::already_exists if the name is taken.
  static NamedSharedMemory create(std::string_view name, std::size_t size,
                                  const Options& options = {});
  static NamedSharedMemory create(std::string_view name, std::size_t size, const Options& options,
                                  std::error_code& ec) noexcept;

  // Opens an existing segment, waiting up to Options::open_timeout for its
  // creator to finish. Fails with errc::not_found if there is none.
  static NamedSharedMemory open(std::string_view name, const Options& options = {});
  static NamedSharedMemory open(std::string_view name, const Options& options,
                                std::error_code& ec) noexcept;

  // Opens the segment, or creates it if there is none; created() tells which.
  // Safe against any number of processes racing on the same name. An existing
  // segment of another size is errc::size_mismatch.
  static NamedSharedMemory open_or_create(std::string_view name, std::size_t size,
                                          const Options& options = {});
  static NamedSharedMemory open_or_create(std::string_view name, std::size_t size,
                                          const Options& options, std::error_code& ec) noexcept;

  // Removes the name; mappings that are open stay valid. Returns false if
  // there was nothing to remove (not an error, as std::filesystem::remove).
  // A no-op that returns false on Win32, where a segment dies with its last
  // handle.
  static bool remove(std::string_view name, const Options& options = {});
  static bool remove(std::string_view name, const Options& options, std::error_code& ec) noexcept;

  static bool exists(std::string_view name, const Options& options = {});
  static bool exists(std::string_view name, const Options& options, std::error_code& ec) noexcept;

  NamedSharedMemory() noexcept = default;  // an empty handle
  NamedSharedMemory(NamedSharedMemory&& other) noexcept;
  NamedSharedMemory& operator=(NamedSharedMemory&& other) noexcept;
  NamedSharedMemory(const NamedSharedMemory&) = delete;
  NamedSharedMemory& operator=(const NamedSharedMemory&) = delete;
  ~NamedSharedMemory();

  // Unmaps (and, with unlink_on_close, removes) now instead of at destruction.
  void close() noexcept;

  bool is_open() const noexcept { return data_ != nullptr; }
  explicit operator bool() const noexcept { return is_open(); }

  // At least 64-byte aligned. Writing through a read_only handle faults.
  void* data() const noexcept { return data_; }
  // Exactly the size the creator asked for. For a raw segment: what the OS
  // reports (on Win32 that is rounded up to whole pages).
  std::size_t size() const noexcept { return size_; }
  const std::string& name() const noexcept { return name_; }
  Backend backend() const noexcept { return backend_; }
  Access access() const noexcept { return access_; }
  bool created() const noexcept { return created_; }
  bool raw() const noexcept { return raw_; }
  NativeHandle native_handle() const noexcept { return handle_; }

  // The processes that have this segment open read-write, including this one
  // and processes that died without closing it (alive == false). Empty for a
  // raw segment, which has no attach table.
  std::vector<AttachedProcess> attached_processes() const;

 private:
  void reset() noexcept;
  friend struct detail::SegmentAccess;  // src/common fills in an opened handle

  std::string name_;
  void* mapping_ = nullptr;  // start of the OS mapping (the header, unless raw)
  std::size_t mapping_length_ = 0;
  void* data_ = nullptr;
  std::size_t size_ = 0;
  NativeHandle handle_ = -1;
  Backend backend_ = Backend::native;
  Access access_ = Access::read_write;
  bool created_ = false;
  bool raw_ = false;
  bool unlink_on_close_ = false;
  int attach_slot_ = -1;
  std::uint64_t attach_token_ = 0;
};

SHMKIT_END_NAMESPACE
