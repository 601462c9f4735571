// How a segment of any kind is created or opened: the retry loop that
// open_or_create races, stale leftovers and the ready handshake need, split
// into its steps. docs/segments.md and docs/lifecycle.md describe the
// protocol; this file is its one implementation.
#include "segment/segment_access.hpp"

#include "core/failure.hpp"
#include "core/name_check.hpp"
#include "lifecycle/lifecycle_internal.hpp"
#include "segment/named_shared_memory_impl.hpp"
#include "segment/segment_backend.hpp"
#include "segment/segment_header.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// Touches one byte per page so that the first real access does not fault.
// Reading is enough: a read fault on shared memory maps the real page.
void prefault(const void* base, std::size_t length) noexcept {
  constexpr std::size_t k_page = 4096;
  const auto* bytes = static_cast<const volatile unsigned char*>(base);
  for (std::size_t offset = 0; offset < length; offset += k_page) (void)bytes[offset];
}

// Everything between the OS object's creation and its publication, in the
// order a creator killed at any instant needs: the stamp that names the
// creator first, then the slow parts (reserving memory, initialising the
// object's state), and the ready state last. On failure the object is
// closed and its name removed; nobody can have opened it, since it was
// never published.
bool finish_creation(SegmentBackend& backend, const std::string& name, Mapping& m, std::size_t size,
                     const SegmentOptions& options, const SegmentRequest& request,
                     Failure& failure) {
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

bool is(const Failure& failure, errc code) {
  return failure.code == make_error_code(code);
}

// What a step of an open tells the loop to do next.
enum class Next {
  done,         // return the handle: opened, or empty with the failure set
  retry,        // start again at once (a stale object was removed, a race lost)
  retry_later,  // start again after a pause (another process is about to finish)
  open,         // create() found the name taken: open what is there
};

// One call of open_segment(): its arguments, the backend and the deadline
// every retry is bounded by.
class SegmentOpening {
 public:
  SegmentOpening(std::string_view name, std::size_t size, const SegmentOptions& options,
                 OpenMode mode, const SegmentRequest& request)
      : name_(name), size_(size), options_(options), mode_(mode), request_(request) {}

  NamedSharedMemory run(Failure& failure) {
    NamedSharedMemory shm;
    if (!arguments_valid(failure)) return shm;
    deadline_ = std::chrono::steady_clock::now() + options_.open_timeout;
    for (bool first = true;; first = false) {
      // A backstop for the steps that retry at once (a stale object
      // removed, a lost race): whatever other processes do to the name,
      // this returns by the deadline.
      if (!first && expired()) {
        // The last attempt's own reason says more than this one, if it had one.
        if (!failure) {
          failure.set(errc::not_ready, "segment " + quoted(name_) +
                                           " kept changing while it was being opened (created "
                                           "and removed by other processes); try again");
        }
        return shm;
      }
      failure.clear();
      Next next = mode_ == OpenMode::open ? Next::open : create_new(shm, failure);
      if (next == Next::open) next = open_existing(shm, failure);
      switch (next) {
        case Next::done:
          return shm;
        case Next::retry_later:
          back_off();
          break;
        case Next::retry:
        case Next::open:
          break;
      }
    }
  }

 private:
  // The name, the backend, and for a creating call the size and access.
  bool arguments_valid(Failure& failure) {
    // A user's segment is held to k_max_name_length; the other kinds checked
    // their names at their own entry and may use derived ones.
    const bool name_valid = request_.kind == ObjectKind::segment
                                ? check_name(name_, failure)
                                : check_derived_name(name_, failure);
    if (!name_valid) return false;
    backend_ = find_backend(options_.backend, failure);
    if (backend_ == nullptr) return false;
    if (mode_ == OpenMode::open) return true;
    const std::size_t overhead = options_.raw ? 0 : k_header_size;
    const std::size_t largest = std::numeric_limits<std::size_t>::max() / 2 - overhead;
    if (size_ == 0 || size_ > largest) {
      failure.set(errc::invalid_size,
                  "segment " + quoted(name_) + ": cannot create " + std::to_string(size_) +
                      " bytes; ask for " +
                      (size_ == 0 ? std::string("at least 1 byte")
                                  : "at most " + std::to_string(largest) + " bytes"));
      return false;
    }
    if (options_.access == Access::read_only) {
      failure.set(errc::invalid_argument,
                  "segment " + quoted(name_) +
                      ": cannot create with Access::read_only; create it read_write, then open "
                      "it read_only where only reading is needed");
      return false;
    }
    return true;
  }

  // Makes, fills and publishes a new object. Next::open when the name is
  // taken and the mode allows opening it instead.
  Next create_new(NamedSharedMemory& shm, Failure& failure) {
    const std::size_t overhead = options_.raw ? 0 : k_header_size;
    Mapping m = backend_->create(name_, size_ + overhead, options_, failure);
    if (failure) {
      if (mode_ == OpenMode::open_or_create && is(failure, errc::already_exists)) {
        failure.clear();
        return Next::open;
      }
      return Next::done;
    }
    if (!finish_creation(*backend_, name_, m, size_, options_, request_, failure)) {
      // Another creator named its object first: open theirs instead.
      const bool lost_race = mode_ == OpenMode::open_or_create && is(failure, errc::already_exists);
      return lost_race ? Next::retry : Next::done;
    }
    // Nobody can mark a segment whose creator is alive, but a creator must
    // not ignore it if it happened.
    if (!SegmentAccess::adopt(shm, *backend_, m, name_, size_, options_, true)) {
      failure.set(errc::not_ready,
                  "segment " + quoted(name_) + " was marked as stale while it was being created");
    }
    return Next::done;
  }

  // Opens what is under the name, checks who made it and what it holds, and
  // adopts it.
  Next open_existing(NamedSharedMemory& shm, Failure& failure) {
    Mapping m;
    if (const Next next = map_existing(m, failure); next != Next::open) return next;
    // Not created by this call: whoever made it first must be trusted
    // before a byte of it is read or written (docs/security.md).
    backend_->check_trust(name_, m, options_, mode_ == OpenMode::open_or_create, failure);
    if (failure) {
      backend_->close(m);
      return Next::done;
    }
    std::size_t data_size = m.length;
    if (!options_.raw) {
      if (const Next next = judge_header(m, data_size, failure); next != Next::open) return next;
    }
    if (mode_ == OpenMode::open_or_create && data_size != size_) {
      backend_->close(m);
      failure.set(errc::size_mismatch, "segment " + quoted(name_) + " exists with size " +
                                           std::to_string(data_size) + ", requested " +
                                           std::to_string(size_) +
                                           "; open it without a size, or remove it first");
      return Next::done;
    }
    if (SegmentAccess::adopt(shm, *backend_, m, name_, data_size, options_, false)) {
      return Next::done;
    }
    return wait_for_removal(failure);
  }

  // The OS object, mapped. Next::open when `m` holds it; a failure that
  // settles by itself (the creator has not sized it yet; open_or_create: it
  // was removed again) is retried until the deadline.
  Next map_existing(Mapping& m, Failure& failure) {
    m = backend_->open(name_, options_, failure);
    // A SysV segment removed between shmget and shmat/IPC_STAT (a stale
    // segment being reclaimed, say) fails with EINVAL or EIDRM: it is gone.
    if (backend_->id() == Backend::sysv && (failure.code == std::errc::invalid_argument ||
                                            failure.code == std::errc::identifier_removed)) {
      failure.set(errc::not_found,
                  "segment " + quoted(name_) + " (sysv) was removed while opening");
    }
    if (!failure) return Next::open;
    // not_found after already_exists: the other creator removed it again;
    // not_ready: it exists but has no size yet. Both settle quickly.
    const bool transient = is(failure, errc::not_ready) ||
                           (mode_ == OpenMode::open_or_create && is(failure, errc::not_found));
    return transient && !expired() ? Next::retry_later : Next::done;
  }

  // Validates the shmkit header of `m` and sets `data_size` from it
  // (Next::open). A stale object that cannot be used as asked is removed
  // (Next::retry, to create it afresh), and one on its way out is waited
  // for; `m` is closed on every result but Next::open.
  Next judge_header(Mapping& m, std::size_t& data_size, Failure& failure) {
    const bool reclaim = mode_ == OpenMode::open_or_create && options_.reclaim_stale;
    const HeaderFacts facts =
        validate_header(m.base, m.length, name_, backend_->id(), request_.kind, deadline_, failure);
    Settled settled = Settled::in_use;
    if (facts.removing) {
      // On its way out: take over from a remover that died, else wait for
      // the live one to finish or give up, then look again.
      settled = settle_if_stale(*backend_, name_, m, request_.kind, options_, reclaim);
      if (settled == Settled::in_use) settled = Settled::busy;
    } else if (failure) {
      // A creator that died before publishing leaves an object every opener
      // refuses: with nobody left who could use it, replace it.
      bool replaced = false;
      if (reclaim && is(failure, errc::not_ready)) {
        Failure ignored;
        replaced = settle_if_stale(*backend_, name_, m, request_.kind, options_, true, ignored) ==
                   Settled::removed;
      }
      backend_->close(m);
      if (!replaced) return Next::done;
      failure.clear();
      return Next::retry;
    } else if (reclaim && facts.data_size != size_) {
      // Only an object that cannot be used as asked is replaced: a stale
      // segment of the right size keeps its data (POSIX segments are meant
      // to outlive their processes), and a stale mutex or ring still works.
      settled = settle_if_stale(*backend_, name_, m, request_.kind, options_, true);
    }
    if (settled == Settled::in_use) {
      data_size = static_cast<std::size_t>(facts.data_size);
      return Next::open;
    }
    backend_->close(m);
    if (settled == Settled::removed) return Next::retry;  // create it afresh
    return wait_for_removal(failure);
  }

  // Another process is removing the object as stale: look again after a
  // pause, until the deadline.
  Next wait_for_removal(Failure& failure) {
    if (!expired()) return Next::retry_later;
    failure.set(errc::not_ready,
                "segment " + quoted(name_) +
                    " is being removed as stale (its creator and every process attached to it "
                    "have exited); try again, or create it anew with open_or_create");
    return Next::done;
  }

  bool expired() const { return std::chrono::steady_clock::now() >= deadline_; }

  void back_off() {
    std::this_thread::sleep_for(pause_);
    pause_ = std::min<std::chrono::microseconds>(pause_ * 2, std::chrono::milliseconds(2));
  }

  const std::string name_;
  const std::size_t size_;
  const SegmentOptions& options_;
  const OpenMode mode_;
  const SegmentRequest& request_;
  SegmentBackend* backend_ = nullptr;
  std::chrono::steady_clock::time_point deadline_{};
  std::chrono::microseconds pause_{50};
};

}  // namespace

bool SegmentAccess::adopt(NamedSharedMemory& shm, SegmentBackend& backend, Mapping mapping,
                          const std::string& name, std::size_t data_size,
                          const SegmentOptions& options, bool created) {
  // Allocated before anything is claimed, so that running out of memory
  // leaves nothing to undo but the mapping.
  std::unique_ptr<NamedSharedMemoryImpl> impl;
  try {
    impl = std::make_unique<NamedSharedMemoryImpl>();
    impl->name = name;
  } catch (...) {
    backend.close(mapping);
    throw;
  }
  impl->backend = backend.id();
  impl->access = options.access;
  impl->raw = options.raw;
  impl->created = created;
  impl->unlink_on_close = options.unlink_on_close;
  impl->mapping = mapping.base;
  impl->mapping_length = mapping.length;
  impl->handle = mapping.handle;
  impl->size = data_size;
  impl->data = options.raw ? mapping.base : static_cast<char*>(mapping.base) + k_header_size;
  impl->owner_pid = current_process().pid;
  // A read-only mapping cannot write its slot, so read-only openers are not
  // listed in the attach table (documented).
  if (!options.raw && options.access == Access::read_write) {
    impl->attach_token = pack_slot(current_process());
    impl->attach_slot = claim_attach_slot(mapping.base, impl->attach_token);
  }
  // Claim first, then look: a remover marks first, then looks at the slots,
  // so at least one of the two sees the other (docs/lifecycle.md). A
  // read-only opener has no slot; the check still keeps it off a segment
  // that is already marked.
  if (!options.raw && !attach_accepted(mapping.base)) {
    if (impl->attach_token != 0) {
      release_attach_slot(mapping.base, impl->attach_slot, impl->attach_token);
    }
    backend.close(mapping);
    shm.close();
    return false;
  }
  if (options.populate && !mapping.populated) prefault(mapping.base, mapping.length);
  shm.close();
  shm.impl_ = impl.release();
  return true;
}

NamedSharedMemory SegmentAccess::open(std::string_view name, std::size_t size,
                                      const SegmentOptions& options, OpenMode mode,
                                      const SegmentRequest& request, Failure& failure) {
  return SegmentOpening(name, size, options, mode, request).run(failure);
}

NamedSharedMemory open_segment(std::string_view name, std::size_t size,
                               const SegmentOptions& options, OpenMode mode,
                               const SegmentRequest& request, Failure& failure) {
  return SegmentAccess::open(name, size, options, mode, request, failure);
}

const char* kind_name(ObjectKind kind) noexcept {
  switch (kind) {
    case ObjectKind::segment:
    case ObjectKind::mutex:
    case ObjectKind::event:
    case ObjectKind::semaphore:
    case ObjectKind::ring:
    case ObjectKind::queue:
    case ObjectKind::channel:
    case ObjectKind::server:
    case ObjectKind::topic:
    case ObjectKind::topic_pool:
    case ObjectKind::managed:
      return to_string(kind);
    default:
      return "unknown object";
  }
}

}  // namespace detail
SHMKIT_END_NAMESPACE
