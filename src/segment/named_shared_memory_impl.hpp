// What an open NamedSharedMemory holds. Kept out of the public header so that
// the exported class has no standard-library members (MSVC C4251) and can
// grow without changing its size.
#pragma once

#include <shmkit/named_shared_memory.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

struct NamedSharedMemoryImpl {
  std::string name;
  void* mapping = nullptr;  // start of the OS mapping (the header, unless raw)
  std::size_t mapping_length = 0;
  void* data = nullptr;
  std::size_t size = 0;
  NativeHandle handle = -1;
  Backend backend = Backend::native;
  Access access = Access::read_write;
  bool created = false;
  bool raw = false;
  bool unlink_on_close = false;
  int attach_slot = -1;
  std::uint64_t attach_token = 0;
  // The process that opened the mapping. A forked child inherits the
  // mapping but not the attach-table entry or the name: its close() only
  // unmaps.
  std::uint64_t owner_pid = 0;
};

}  // namespace detail
SHMKIT_END_NAMESPACE
