// ManagedSegment: a segment of kind `managed` whose data is a heap
// (src/managed/heap.cpp), its factories and its untyped named-object
// engine.
#include <shmkit/managed_segment.hpp>

#include "core/error_wrappers.hpp"
#include "core/name_check.hpp"
#include "managed/directory.hpp"
#include "managed/heap_lock.hpp"
#include "managed/managed_segment_impl.hpp"
#include "segment/segment_access.hpp"

#include <atomic>
#include <chrono>
#include <memory>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

void initialize_heap(void* data, std::size_t size, const void* context, Failure&) {
  Heap::format(data, size, *static_cast<const std::uint64_t*>(context));
}

std::uint64_t fresh_salt() noexcept {
  const auto now =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  static std::atomic<std::uint64_t> counter{0};
  return now ^ (reinterpret_cast<std::uintptr_t>(&counter) << 16) ^ ++counter;
}

bool usable(const ManagedSegmentImpl* impl, Failure& failure) {
  if (impl != nullptr) return true;
  failure.set(errc::invalid_state,
              "this ManagedSegment handle is empty (default-constructed, moved from or "
              "closed); open the segment first");
  return false;
}

}  // namespace

struct ManagedSegmentAccess {
  static ManagedSegmentImpl* impl(const ManagedSegment& segment) noexcept { return segment.impl_; }
};

HeapHeader* heap_of(const ManagedSegment& segment) noexcept {
  ManagedSegmentImpl* impl = ManagedSegmentAccess::impl(segment);
  return impl != nullptr ? &impl->heap.header() : nullptr;
}

}  // namespace detail

using detail::Failure;

ManagedSegment ManagedSegment::open_as(std::string_view name, std::size_t size,
                                       const SegmentOptions& options, int mode, Failure& failure) {
  ManagedSegment result;
  if (!detail::check_name(name, failure)) return result;
  if (options.raw || options.access == Access::read_only) {
    failure.set(errc::invalid_argument,
                "managed segment " + detail::quoted(std::string(name)) +
                    ": SegmentOptions::raw and Access::read_only do not apply (its heap has a "
                    "header and a lock every user writes); use the defaults");
    return result;
  }
  const auto open_mode = static_cast<detail::OpenMode>(mode);
  if (open_mode != detail::OpenMode::open && size < k_min_size) {
    failure.set(errc::invalid_size, "managed segment " + detail::quoted(std::string(name)) + ": " +
                                        std::to_string(size) +
                                        " bytes is too small for a heap; ask for at least " +
                                        std::to_string(k_min_size));
    return result;
  }
  const std::uint64_t salt = detail::fresh_salt();
  const detail::SegmentRequest request{ObjectKind::managed, &detail::initialize_heap, &salt};
  NamedSharedMemory shm = detail::open_segment(name, size, options, open_mode, request, failure);
  if (failure) return result;
  if (shm.size() < k_min_size) {
    failure.set(errc::corrupted, "managed segment " + detail::quoted(shm.name()) +
                                     " is smaller than any heap; remove it and create it again");
    return result;
  }
  auto impl = std::make_unique<detail::ManagedSegmentImpl>(std::move(shm));
  if (!impl->heap.header_valid(failure)) return result;
  detail::register_heap(impl.get());
  result.impl_ = impl.release();
  return result;
}

ManagedSegment ManagedSegment::create(std::string_view name, std::size_t size,
                                      const SegmentOptions& options) {
  return detail::throwing([&](Failure& f) {
    return open_as(name, size, options, static_cast<int>(detail::OpenMode::create), f);
  });
}
ManagedSegment ManagedSegment::create(std::string_view name, std::size_t size,
                                      const SegmentOptions& options, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return open_as(name, size, options, static_cast<int>(detail::OpenMode::create), f);
  });
}
ManagedSegment ManagedSegment::open(std::string_view name, const SegmentOptions& options) {
  return detail::throwing([&](Failure& f) {
    return open_as(name, 0, options, static_cast<int>(detail::OpenMode::open), f);
  });
}
ManagedSegment ManagedSegment::open(std::string_view name, const SegmentOptions& options,
                                    std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return open_as(name, 0, options, static_cast<int>(detail::OpenMode::open), f);
  });
}
ManagedSegment ManagedSegment::open_or_create(std::string_view name, std::size_t size,
                                              const SegmentOptions& options) {
  return detail::throwing([&](Failure& f) {
    return open_as(name, size, options, static_cast<int>(detail::OpenMode::open_or_create), f);
  });
}
ManagedSegment ManagedSegment::open_or_create(std::string_view name, std::size_t size,
                                              const SegmentOptions& options,
                                              std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return open_as(name, size, options, static_cast<int>(detail::OpenMode::open_or_create), f);
  });
}

namespace {

bool remove_managed(std::string_view name, const SegmentOptions& options, Failure& f) {
  return detail::check_name(name, f) && detail::remove_segment(name, options, f);
}

bool managed_exists(std::string_view name, const SegmentOptions& options, Failure& f) {
  if (!detail::check_name(name, f)) return false;
  std::error_code code;
  const bool found = NamedSharedMemory::exists(name, options, code);
  if (code) f.set(code, error_message(code));
  return found;
}

}  // namespace

bool ManagedSegment::remove(std::string_view name, const SegmentOptions& options) {
  return detail::throwing([&](Failure& f) { return remove_managed(name, options, f); });
}
bool ManagedSegment::remove(std::string_view name, const SegmentOptions& options,
                            std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) { return remove_managed(name, options, f); });
}
bool ManagedSegment::exists(std::string_view name, const SegmentOptions& options) {
  return detail::throwing([&](Failure& f) { return managed_exists(name, options, f); });
}
bool ManagedSegment::exists(std::string_view name, const SegmentOptions& options,
                            std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) { return managed_exists(name, options, f); });
}

ManagedSegment::ManagedSegment(ManagedSegment&& other) noexcept : impl_(other.impl_) {
  other.impl_ = nullptr;
}

ManagedSegment& ManagedSegment::operator=(ManagedSegment&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = other.impl_;
    other.impl_ = nullptr;
  }
  return *this;
}

ManagedSegment::~ManagedSegment() {
  close();
}

void ManagedSegment::close() noexcept {
  if (impl_ == nullptr) return;
  detail::unregister_heap(impl_);
  delete impl_;
  impl_ = nullptr;
}

void* ManagedSegment::allocate(std::size_t bytes, std::size_t alignment) {
  return detail::throwing([&](Failure& f) -> void* {
    return detail::usable(impl_, f) ? impl_->allocate(bytes, alignment, f) : nullptr;
  });
}
void* ManagedSegment::allocate(std::size_t bytes, std::error_code& ec) noexcept {
  return allocate(bytes, alignof(std::max_align_t), ec);
}
void* ManagedSegment::allocate(std::size_t bytes, std::size_t alignment,
                               std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) -> void* {
    return detail::usable(impl_, f) ? impl_->allocate(bytes, alignment, f) : nullptr;
  });
}

void ManagedSegment::deallocate(void* p) {
  detail::throwing([&](Failure& f) {
    if (detail::usable(impl_, f)) impl_->deallocate(p, f);
  });
}
void ManagedSegment::deallocate(void* p, std::error_code& ec) noexcept {
  detail::without_throwing(ec, [&](Failure& f) {
    if (detail::usable(impl_, f)) impl_->deallocate(p, f);
  });
}

std::size_t ManagedSegment::size() const noexcept {
  return impl_ != nullptr ? impl_->shm.size() : 0;
}

std::size_t ManagedSegment::free_memory() const noexcept {
  if (impl_ == nullptr) return 0;
  const std::uint64_t bytes = impl_->heap.header().free_bytes.load(std::memory_order_relaxed);
  return bytes < impl_->shm.size() ? static_cast<std::size_t>(bytes) : 0;
}

std::size_t ManagedSegment::used_memory() const noexcept {
  if (impl_ == nullptr) return 0;
  const std::uint64_t bytes = impl_->heap.header().used_bytes.load(std::memory_order_relaxed);
  return bytes < impl_->shm.size() ? static_cast<std::size_t>(bytes) : 0;
}

namespace {

HeapCheck check_heap(detail::ManagedSegmentImpl* impl, Failure& f) {
  if (!detail::usable(impl, f)) return {};
  // A repair that finds the heap damaged is reported by the walk, not as an
  // error: check() is how a user learns what is wrong.
  Failure repair;
  detail::HeapLock lock(impl->heap, repair);
  if (repair && repair.code != make_error_code(errc::corrupted)) {
    f = repair;
    return {};
  }
  return impl->heap.inspect();
}

}  // namespace

HeapCheck ManagedSegment::check() const {
  return detail::throwing([&](Failure& f) { return check_heap(impl_, f); });
}
HeapCheck ManagedSegment::check(std::error_code& ec) const noexcept {
  return detail::without_throwing(ec, [&](Failure& f) { return check_heap(impl_, f); });
}

NamedSharedMemory& ManagedSegment::segment() noexcept {
  static NamedSharedMemory none;
  return impl_ != nullptr ? impl_->shm : none;
}
const NamedSharedMemory& ManagedSegment::segment() const noexcept {
  static const NamedSharedMemory none;
  return impl_ != nullptr ? impl_->shm : none;
}
const std::string& ManagedSegment::name() const noexcept {
  return segment().name();
}
bool ManagedSegment::created() const noexcept {
  return impl_ != nullptr && impl_->shm.created();
}

namespace {

// Runs the caller's constructor and remembers whether it threw, so that the
// error_code twin can tell T's exceptions (which pass through) from ours
// (which it reports): for a T whose constructor cannot throw, nothing can.
struct TrackedConstructor {
  detail::NamedConstructor construct;
  void* context;
  bool threw = false;
};

void run_tracked(void* where, void* tracked) {
  auto& t = *static_cast<TrackedConstructor*>(tracked);
  try {
    t.construct(where, t.context);
  } catch (...) {
    t.threw = true;
    throw;
  }
}

}  // namespace

void* ManagedSegment::named_object(std::string_view name, const detail::ManagedType& type,
                                   detail::NamedMode mode, detail::NamedConstructor construct,
                                   void* context, std::error_code* ec) {
  // Exceptions of T's constructor pass through both forms (the error_code
  // twin is noexcept only when T's constructor is); the twin catches every
  // other one (bad_alloc building a message or taking the lock).
  TrackedConstructor tracked{construct, context};
  Failure f;
  void* object = nullptr;
  auto body = [&] {
    if (detail::usable(impl_, f)) {
      detail::HeapLock lock(impl_->heap, f);
      if (!f) {
        object = detail::named_lookup(impl_->heap, name, type, mode,
                                      construct != nullptr ? &run_tracked : nullptr, &tracked, f);
      }
    }
  };
  if (ec == nullptr) {
    body();
    if (f) f.raise();
    return object;
  }
  try {
    body();
  } catch (...) {
    if (tracked.threw) throw;
    *ec = std::make_error_code(std::errc::not_enough_memory);
    return nullptr;
  }
  try {
    detail::report(*ec, f);
  } catch (...) {
    *ec = f.code;  // no memory for the sentence: the code alone
  }
  return f ? nullptr : object;
}

bool ManagedSegment::destroy_named(std::string_view name, const detail::ManagedType& type,
                                   detail::NamedDestructor destroy, std::error_code* ec) {
  auto body = [&](Failure& f) {
    if (!detail::usable(impl_, f)) return false;
    detail::HeapLock lock(impl_->heap, f);
    return !f && detail::named_destroy(impl_->heap, name, type, destroy, f);
  };
  if (ec == nullptr) return detail::throwing(body);
  return detail::without_throwing(*ec, body);
}

SHMKIT_END_NAMESPACE
