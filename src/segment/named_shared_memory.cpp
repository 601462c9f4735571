#include <shmkit/named_shared_memory.hpp>

#include <shmkit/name.hpp>

#include "core/error_wrappers.hpp"
#include "core/failure.hpp"
#include "core/name_check.hpp"
#include "lifecycle/lifecycle_internal.hpp"
#include "segment/segment_access.hpp"
#include "segment/segment_backend.hpp"
#include "segment/segment_header.hpp"

#include <chrono>
#include <limits>
#include <thread>
#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// Touches one byte per page so that the first real access does not fault.
// Reading is enough: a read fault on shared memory maps the real page.
void prefault(const void* base, std::size_t length) noexcept {
  constexpr std::size_t k_page = 4096;
  const auto* bytes = static_cast<const volatile unsigned char*>(base);
  for (std::size_t offset = 0; offset < length; offset += k_page) (void)bytes[offset];
}

namespace {

// Everything between the OS object's creation and its publication, in the
// order a creator killed at any instant needs: the stamp that names the
// creator first, then the slow parts (reserving memory, initialising the
// object's state), and the ready state last. On failure the object is
// closed and its name removed; nobody can have opened it, since it was
// never published.
bool finish_creation(SegmentBackend& backend, const std::string& name, Mapping& m, std::size_t size,
                     const Options& options, const SegmentRequest& request, Failure& failure) {
  if (!options.raw) stamp_header(m.base, size, backend.id(), request.kind, name);
  backend.reserve(name, m, failure);
  if (!failure && !options.raw && request.initialize != nullptr) {
    request.initialize(static_cast<char*>(m.base) + k_header_size, size, request.context, failure);
  }
  if (failure) {
    const bool named = !m.unnamed;
    Failure ignored;
    backend.close(m);
    // An unnamed object vanished with its handle; the name, if any, is
    // someone else's.
    if (named) backend.remove(name, options, ignored);
    return false;
  }
  if (!options.raw) publish_header(m.base);
  backend.publish(name, m, failure);
  if (failure) {
    backend.close(m);
    return false;
  }
  return true;
}

}  // namespace

struct SegmentAccess {
  static NamedSharedMemory open(std::string_view name_view, std::size_t size,
                                const Options& options, OpenMode mode,
                                const SegmentRequest& request, Failure& failure);
  static bool adopt(NamedSharedMemory& shm, SegmentBackend& backend, Mapping mapping,
                    std::size_t data_size, const Options& options, bool created);
};

// Returns false, with the mapping closed and `shm` empty, when a stale-segment
// remover marked the segment before this process was recorded in it.
bool SegmentAccess::adopt(NamedSharedMemory& shm, SegmentBackend& backend, Mapping mapping,
                          std::size_t data_size, const Options& options, bool created) {
  shm.backend_ = backend.id();
  shm.access_ = options.access;
  shm.raw_ = options.raw;
  shm.created_ = created;
  shm.unlink_on_close_ = options.unlink_on_close;
  shm.mapping_ = mapping.base;
  shm.mapping_length_ = mapping.length;
  shm.handle_ = mapping.handle;
  shm.size_ = data_size;
  shm.data_ = options.raw ? mapping.base : static_cast<char*>(mapping.base) + k_header_size;
  // A read-only mapping cannot write its slot, so read-only openers are not
  // listed in the attach table (documented).
  if (!options.raw && options.access == Access::read_write) {
    shm.attach_token_ = pack_slot(current_process());
    shm.attach_slot_ = claim_attach_slot(mapping.base, shm.attach_token_);
  }
  // Claim first, then look: a remover marks first, then looks at the slots,
  // so at least one of the two sees the other (docs/lifecycle.md). A
  // read-only opener has no slot; the check still keeps it off a segment
  // that is already marked.
  if (!options.raw && !attach_accepted(mapping.base)) {
    if (shm.attach_token_ != 0)
      release_attach_slot(mapping.base, shm.attach_slot_, shm.attach_token_);
    backend.close(mapping);
    shm.reset();
    return false;
  }
  if (options.populate && !mapping.populated) prefault(mapping.base, mapping.length);
  return true;
}

NamedSharedMemory SegmentAccess::open(std::string_view name_view, std::size_t size,
                                      const Options& options, OpenMode mode,
                                      const SegmentRequest& request, Failure& failure) {
  NamedSharedMemory shm;
  std::string name(name_view);
  // A user's segment is held to k_max_name_length; the other kinds checked
  // their names at their own entry and may use derived ones.
  if (!(request.kind == SegmentKind::segment ? check_name(name, failure)
                                             : check_derived_name(name, failure))) {
    return shm;
  }
  SegmentBackend* backend = find_backend(options.backend, failure);
  if (backend == nullptr) return shm;

  const std::size_t overhead = options.raw ? 0 : k_header_size;
  if (mode != OpenMode::open) {
    const std::size_t largest = std::numeric_limits<std::size_t>::max() / 2 - overhead;
    if (size == 0 || size > largest) {
      failure.set(errc::invalid_size,
                  "segment " + quoted(name) + ": cannot create " + std::to_string(size) +
                      " bytes; ask for " +
                      (size == 0 ? std::string("at least 1 byte")
                                 : "at most " + std::to_string(largest) + " bytes"));
      return shm;
    }
    if (options.access == Access::read_only) {
      failure.set(errc::invalid_argument,
                  "segment " + quoted(name) +
                      ": cannot create with Access::read_only; create it read_write, then open "
                      "it read_only where only reading is needed");
      return shm;
    }
  }

  const auto deadline = std::chrono::steady_clock::now() + options.open_timeout;
  auto pause = std::chrono::microseconds(50);
  for (bool first = true;; first = false) {
    // A backstop for the paths below that retry at once (a stale object
    // removed, a lost race): whatever other processes do to the name, this
    // returns by the deadline.
    if (!first && std::chrono::steady_clock::now() >= deadline) {
      // The last attempt's own reason says more than this one, if it had one.
      if (!failure) {
        failure.set(errc::not_ready, "segment " + quoted(name) +
                                         " kept changing while it was being opened (created and "
                                         "removed by other processes); try again");
      }
      return shm;
    }
    failure.clear();
    if (mode != OpenMode::open) {
      Mapping m = backend->create(name, size + overhead, options, failure);
      if (!failure && !finish_creation(*backend, name, m, size, options, request, failure)) {
        // Another creator named its object first: open theirs instead.
        if (mode == OpenMode::open_or_create &&
            failure.code == make_error_code(errc::already_exists)) {
          continue;
        }
        return shm;
      }
      if (!failure) {
        shm.name_ = name;
        // Nobody can mark a segment whose creator is alive, but a creator
        // must not ignore it if it happened.
        if (adopt(shm, *backend, m, size, options, true)) return shm;
        failure.set(errc::not_ready,
                    "segment " + quoted(name) + " was marked as stale while it was being created");
        return shm;
      }
      if (mode == OpenMode::create || failure.code != make_error_code(errc::already_exists)) {
        return shm;
      }
      failure.clear();
    }

    Mapping m = backend->open(name, options, failure);
    // A SysV segment removed between shmget and shmat/IPC_STAT (a stale
    // segment being reclaimed, say) fails with EINVAL or EIDRM: it is gone.
    if (backend->id() == Backend::sysv && (failure.code == std::errc::invalid_argument ||
                                           failure.code == std::errc::identifier_removed)) {
      failure.set(errc::not_found, "segment " + quoted(name) + " (sysv) was removed while opening");
    }
    // not_found after already_exists: the other creator removed it again;
    // not_ready: it exists but has no size yet. Both settle quickly.
    const bool transient =
        failure.code == make_error_code(errc::not_ready) ||
        (mode == OpenMode::open_or_create && failure.code == make_error_code(errc::not_found));
    if (failure) {
      if (!transient || std::chrono::steady_clock::now() >= deadline) return shm;
      std::this_thread::sleep_for(pause);
      pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(2));
      continue;
    }
    // Not created by this call: whoever made it first must be trusted
    // before a byte of it is read or written (docs/security.md).
    backend->check_trust(name, m, options, mode == OpenMode::open_or_create, failure);
    if (failure) {
      backend->close(m);
      return shm;
    }

    const bool reclaim = mode == OpenMode::open_or_create && options.reclaim_stale;
    std::size_t data_size = m.length;
    if (!options.raw) {
      const HeaderFacts facts =
          validate_header(m.base, m.length, name, backend->id(), request.kind, deadline, failure);
      Settled settled = Settled::in_use;
      if (facts.removing) {
        // On its way out: take over from a remover that died, else wait for
        // the live one to finish or give up, then look again.
        settled = settle_if_stale(*backend, name, m, request.kind, options, reclaim);
        if (settled == Settled::in_use) settled = Settled::busy;
      } else if (failure) {
        // A creator that died before publishing leaves an object every opener
        // refuses: with nobody left who could use it, replace it.
        if (reclaim && failure.code == make_error_code(errc::not_ready)) {
          Failure ignored;
          if (settle_if_stale(*backend, name, m, request.kind, options, true, ignored) ==
              Settled::removed) {
            backend->close(m);
            failure.clear();
            continue;
          }
        }
        backend->close(m);
        return shm;
      } else if (reclaim && facts.data_size != size) {
        // Only an object that cannot be used as asked is replaced: a stale
        // segment of the right size keeps its data (POSIX segments are meant
        // to outlive their processes), and a stale mutex or ring still works.
        settled = settle_if_stale(*backend, name, m, request.kind, options, true);
      }
      if (settled != Settled::in_use) {
        backend->close(m);
        if (settled == Settled::removed) continue;  // create it afresh
        if (std::chrono::steady_clock::now() >= deadline) {
          failure.set(errc::not_ready,
                      "segment " + quoted(name) +
                          " is being removed as stale (its creator and every process attached to "
                          "it have exited); try again, or create it anew with open_or_create");
          return shm;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(2));
        continue;
      }
      data_size = static_cast<std::size_t>(facts.data_size);
    }
    if (mode == OpenMode::open_or_create && data_size != size) {
      backend->close(m);
      failure.set(errc::size_mismatch, "segment " + quoted(name) + " exists with size " +
                                           std::to_string(data_size) + ", requested " +
                                           std::to_string(size) +
                                           "; open it without a size, or remove it first");
      return shm;
    }
    shm.name_ = name;
    if (adopt(shm, *backend, m, data_size, options, false)) return shm;
    if (std::chrono::steady_clock::now() >= deadline) {
      failure.set(errc::not_ready,
                  "segment " + quoted(name) +
                      " is being removed as stale (its creator and every process attached to it "
                      "have exited); try again, or create it anew with open_or_create");
      return shm;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(2));
  }
}

NamedSharedMemory open_segment(std::string_view name, std::size_t size, const Options& options,
                               OpenMode mode, const SegmentRequest& request, Failure& failure) {
  return SegmentAccess::open(name, size, options, mode, request, failure);
}

const char* kind_name(SegmentKind kind) noexcept {
  switch (kind) {
    case SegmentKind::segment:
      return "segment";
    case SegmentKind::mutex:
      return "mutex";
    case SegmentKind::event:
      return "event";
    case SegmentKind::semaphore:
      return "semaphore";
    case SegmentKind::ring:
      return "ring";
    case SegmentKind::queue:
      return "queue";
    case SegmentKind::channel:
      return "channel";
    case SegmentKind::server:
      return "server";
  }
  return "unknown object";
}

}  // namespace detail

using detail::Failure;
using detail::OpenMode;
using detail::SegmentAccess;

NamedSharedMemory NamedSharedMemory::create(std::string_view name, std::size_t size,
                                            const Options& options) {
  return detail::throwing([&](Failure& f) {
    return SegmentAccess::open(name, size, options, OpenMode::create, {}, f);
  });
}

NamedSharedMemory NamedSharedMemory::create(std::string_view name, std::size_t size,
                                            const Options& options, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return SegmentAccess::open(name, size, options, OpenMode::create, {}, f);
  });
}

NamedSharedMemory NamedSharedMemory::open(std::string_view name, const Options& options) {
  return detail::throwing(
      [&](Failure& f) { return SegmentAccess::open(name, 0, options, OpenMode::open, {}, f); });
}

NamedSharedMemory NamedSharedMemory::open(std::string_view name, const Options& options,
                                          std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return SegmentAccess::open(name, 0, options, OpenMode::open, {}, f); });
}

NamedSharedMemory NamedSharedMemory::open_or_create(std::string_view name, std::size_t size,
                                                    const Options& options) {
  return detail::throwing([&](Failure& f) {
    return SegmentAccess::open(name, size, options, OpenMode::open_or_create, {}, f);
  });
}

NamedSharedMemory NamedSharedMemory::open_or_create(std::string_view name, std::size_t size,
                                                    const Options& options,
                                                    std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return SegmentAccess::open(name, size, options, OpenMode::open_or_create, {}, f);
  });
}

namespace {

// remove() and exists() share the name check and the backend lookup.
template <typename Op>
bool by_name(std::string_view name_view, const Options& options, Failure& f, Op op) {
  const std::string name(name_view);
  if (!check_name(name, f)) return false;
  detail::SegmentBackend* backend = detail::find_backend(options.backend, f);
  return backend != nullptr && op(*backend, name);
}

}  // namespace

namespace detail {

bool remove_segment(std::string_view name_view, const Options& options, Failure& failure) {
  const std::string name(name_view);
  if (!check_derived_name(name, failure)) return false;
  SegmentBackend* backend = find_backend(options.backend, failure);
  return backend != nullptr && backend->remove(name, options, failure);
}

}  // namespace detail

bool NamedSharedMemory::remove(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return by_name(name, options, f,
                   [&](auto& b, const std::string& n) { return b.remove(n, options, f); });
  });
}

bool NamedSharedMemory::remove(std::string_view name, const Options& options,
                               std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return by_name(name, options, f,
                   [&](auto& b, const std::string& n) { return b.remove(n, options, f); });
  });
}

bool NamedSharedMemory::exists(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return by_name(name, options, f,
                   [&](auto& b, const std::string& n) { return b.exists(n, options, f); });
  });
}

bool NamedSharedMemory::exists(std::string_view name, const Options& options,
                               std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return by_name(name, options, f,
                   [&](auto& b, const std::string& n) { return b.exists(n, options, f); });
  });
}

NamedSharedMemory::NamedSharedMemory(NamedSharedMemory&& other) noexcept {
  *this = std::move(other);
}

NamedSharedMemory& NamedSharedMemory::operator=(NamedSharedMemory&& other) noexcept {
  if (this != &other) {
    close();
    name_ = std::move(other.name_);
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_length_ = std::exchange(other.mapping_length_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    handle_ = std::exchange(other.handle_, -1);
    backend_ = other.backend_;
    access_ = other.access_;
    created_ = std::exchange(other.created_, false);
    raw_ = other.raw_;
    unlink_on_close_ = std::exchange(other.unlink_on_close_, false);
    attach_slot_ = std::exchange(other.attach_slot_, -1);
    attach_token_ = std::exchange(other.attach_token_, 0);
    other.name_.clear();
  }
  return *this;
}

NamedSharedMemory::~NamedSharedMemory() {
  close();
}

void NamedSharedMemory::close() noexcept {
  if (mapping_ == nullptr) return;
  if (attach_token_ != 0) detail::release_attach_slot(mapping_, attach_slot_, attach_token_);
  Failure ignored;
  if (detail::SegmentBackend* backend = detail::find_backend(backend_, ignored)) {
    detail::Mapping m{mapping_, mapping_length_, handle_};
    backend->close(m);
    if (unlink_on_close_) {
      Options options;
      options.backend = backend_;
      options.raw = raw_;
      try {
        backend->remove(name_, options, ignored);
      } catch (...) {
        // Closing never throws; a name we failed to remove is still listed
        // by the tools and removable by hand.
      }
    }
  }
  reset();
}

void NamedSharedMemory::reset() noexcept {
  name_.clear();
  mapping_ = nullptr;
  mapping_length_ = 0;
  data_ = nullptr;
  size_ = 0;
  handle_ = -1;
  created_ = false;
  unlink_on_close_ = false;
  attach_slot_ = -1;
  attach_token_ = 0;
}

std::vector<AttachedProcess> NamedSharedMemory::attached_processes() const {
  if (mapping_ == nullptr || raw_) return {};
  return detail::read_attach_table(mapping_);
}

SHMKIT_END_NAMESPACE
