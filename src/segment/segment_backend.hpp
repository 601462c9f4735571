// What a platform must provide to host segments. NamedSharedMemory (in
// src/common) owns the logic every backend shares: names, the header, the
// ready handshake, the attach table, open_or_create retries. A backend only
// creates, opens, maps and removes OS objects.
#pragma once

#include "core/failure.hpp"

#include <shmkit/named_shared_memory.hpp>
#include <shmkit/options.hpp>

#include <cstddef>
#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

struct Mapping {
  void* base = nullptr;
  std::size_t length = 0;  // bytes mapped: the object's full size
  NativeHandle handle = -1;
  bool populated = false;  // the OS already faulted every page in
  // create() made the object without a name; publish() gives it one.
  bool unnamed = false;
};

class SegmentBackend {
 public:
  virtual ~SegmentBackend() = default;

  virtual Backend id() const noexcept = 0;

  // Creates a new zero-filled object of exactly `length` bytes and maps it
  // read-write. A taken name fails with errc::already_exists, and nothing is
  // left behind by any failure. Where the OS allows (Linux), the object has
  // no name until publish(), so a creator killed half-way leaves nothing.
  virtual Mapping create(const std::string& name, std::size_t length, const SegmentOptions& options,
                         Failure& failure) = 0;

  // Opens and maps all of an existing object. errc::not_found if there is
  // none; errc::not_ready while its creator has not given it a size yet.
  virtual Mapping open(const std::string& name, const SegmentOptions& options,
                       Failure& failure) = 0;

  // Gives every page of an object create() just made its memory now, so that
  // a full /dev/shm is an error here instead of SIGBUS at the first write
  // into a page. create() already reserved the first page (the header's);
  // the caller stamps the header before calling this, because reserving a
  // large object takes time. On failure the caller closes and removes it.
  virtual void reserve(const std::string& name, Mapping& mapping, Failure& failure) = 0;

  // Gives a finished object its name if create() made it without one
  // (Mapping::unnamed): errc::already_exists when another creator won the
  // name meanwhile. Called last, after the header is published.
  virtual void publish(const std::string&, Mapping&, Failure&) {}
  // True where create() makes objects without a name (see publish()): then
  // no half-made object is ever visible under a name, and a creator killed
  // during creation leaves nothing to clean up.
  virtual bool creates_unnamed() const noexcept { return false; }

  // Refuses an object that open() found and this process must not use: its
  // owner (or creator) is another user than this one, the administrator or
  // ObjectOptions::trusted_owners (errc::untrusted_owner); with
  // `check_permissions` (open_or_create() found it), also one whose
  // permissions are wider than ObjectOptions::permissions
  // (errc::insecure_permissions). docs/security.md.
  virtual void check_trust(const std::string& name, const Mapping& mapping,
                           const SegmentOptions& options, bool check_permissions,
                           Failure& failure) = 0;

  virtual void close(Mapping& mapping) noexcept = 0;

  // Returns false if there was nothing to remove.
  virtual bool remove(const std::string& name, const SegmentOptions& options, Failure& failure) = 0;

  virtual bool exists(const std::string& name, const SegmentOptions& options, Failure& failure) = 0;
};

// The backend behind `backend` on this platform (Backend::native resolved),
// or nullptr with errc::backend_unavailable.
SegmentBackend* find_backend(Backend backend, Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
