// A bounded MPMC queue in shared memory: an array of cells, each with a
// sequence number that says whose turn it is (D. Vyukov's design). A producer
// claims position p by advancing enqueue_pos, copies its element in, then
// publishes by setting the cell's sequence to p + 1; a consumer claims p by
// advancing dequeue_pos, copies out, and frees the cell for the next lap by
// setting it to p + capacity.
//
// Cells are found by position & (capacity - 1), so no value from shared
// memory can make an access go out of bounds; a sequence that is impossible
// for its position is reported as errc::corrupted instead of spinning.
#include <shmkit/queue_core.hpp>

#include "core/error_wrappers.hpp"
#include "core/name_check.hpp"
#include "messaging/peer_wait.hpp"
#include "segment/segment_options.hpp"
#include "sync/process_barrier.hpp"
#include "sync/sync_segment.hpp"

#include <shmkit/name.hpp>

#include <cstring>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

constexpr std::uint32_t k_queue_layout = 0x51554531;  // "QUE1"
constexpr std::size_t k_queue_offset = 64 - sizeof(SyncPreamble);
constexpr std::size_t k_max_queue_cells = std::size_t{1} << 30;

struct alignas(64) QueueShared {
  std::uint64_t capacity;  // cells: a power of two
  std::uint64_t cell_size;
  std::uint64_t element_size;
  std::uint64_t element_align;
  std::uint64_t schema_id;
  std::uint8_t reserved0[24];
  alignas(64) std::atomic<std::uint64_t> enqueue_pos;
  alignas(64) std::atomic<std::uint64_t> dequeue_pos;
  alignas(64) std::atomic<std::uint32_t> consumer_sleepers;
  std::atomic<std::uint32_t> items_signal;
  alignas(64) std::atomic<std::uint32_t> producer_sleepers;
  std::atomic<std::uint32_t> space_signal;
};

struct Layout {
  std::size_t capacity;
  std::size_t cell_size;
};

constexpr std::size_t align_up(std::size_t n, std::size_t a) {
  return (n + a - 1) / a * a;
}

Layout layout_for(std::size_t requested, const ElementType& type) {
  std::size_t capacity = 2;
  while (capacity < requested && capacity < k_max_queue_cells) capacity *= 2;
  const std::size_t align = type.align > 8 ? type.align : 8;
  return {capacity, align_up(8 + type.size, align)};
}

struct QueueInit {
  Layout layout;
  ElementType type;
};

void initialize_queue(void* state, const void* context, Failure&) {
  const auto& init = *static_cast<const QueueInit*>(context);
  auto* shared = new (static_cast<std::byte*>(state) + k_queue_offset) QueueShared{};
  shared->capacity = init.layout.capacity;
  shared->cell_size = init.layout.cell_size;
  shared->element_size = init.type.size;
  shared->element_align = init.type.align;
  shared->schema_id = init.type.schema_id;
  auto* cells = reinterpret_cast<std::byte*>(shared + 1);
  for (std::size_t i = 0; i < init.layout.capacity; ++i) {
    new (cells + i * init.layout.cell_size) std::atomic<std::uint64_t>(i);
  }
}

}  // namespace

class QueueImpl {
 public:
  // The layout values are the ones open_queue() validated, never re-read
  // from shared memory.
  QueueImpl(SyncSegment segment, QueueShared* shared, std::size_t capacity, std::size_t cell_size,
            std::size_t element_size, std::string name, WaitOptions wait)
      : segment_(std::move(segment)),
        shared_(shared),
        cells_(reinterpret_cast<std::byte*>(shared + 1)),
        capacity_(capacity),
        cell_size_(cell_size),
        element_size_(element_size),
        name_(std::move(name)),
        wait_(wait),
        fenceless_(register_for_heavy_barrier()),
        heavy_(heavy_barrier_exists()) {}

  // The common case, with no error plumbing: a push that succeeds at once
  // or within the fast spin. 1 pushed; 0 still full (the spin is over, or
  // there was none); -1 take the general path, which reports the
  // corruption.
  int push_fast(const void* element, Deadline deadline) noexcept {
    const int result =
        spin_for_fast_path(wait_, deadline, 0, [&] { return try_push(element, nullptr); });
    if (result > 0) wake_only(consumer_words(), 1, fenceless_);
    return result;
  }
  int pop_fast(void* element, Deadline deadline) noexcept {
    const int result =
        spin_for_fast_path(wait_, deadline, 0, [&] { return try_pop(element, nullptr); });
    if (result > 0) wake_only(producer_words(), 1, fenceless_);
    return result;
  }

  // `spun`: push_fast() has spun already (an adaptive handle sleeps).
  bool push(const void* element, Deadline deadline, Failure& failure, bool spun) {
    const WaitOptions wait = spun ? after_fast_spin(wait_) : wait_;
    for (;;) {
      const int result = try_push(element, &failure);
      if (result != 0) {
        if (result > 0) wake_only(consumer_words(), 1, fenceless_);
        return result > 0;
      }
      const WaitResult waited = wait_for_peer(
          wait, deadline, producer_words(), [&] { return has_space(); }, [] { return false; });
      if (waited != WaitResult::ready) return false;
    }
  }

  bool pop(void* element, Deadline deadline, Failure& failure, bool spun) {
    const WaitOptions wait = spun ? after_fast_spin(wait_) : wait_;
    for (;;) {
      const int result = try_pop(element, &failure);
      if (result != 0) {
        if (result > 0) wake_only(producer_words(), 1, fenceless_);
        return result > 0;
      }
      const WaitResult waited = wait_for_peer(
          wait, deadline, consumer_words(), [&] { return has_item(); }, [] { return false; });
      if (waited != WaitResult::ready) return false;
    }
  }

  std::size_t capacity() const noexcept { return capacity_; }
  const std::string& name() const noexcept { return name_; }

 private:
  std::atomic<std::uint64_t>& sequence(std::uint64_t position) const {
    return *reinterpret_cast<std::atomic<std::uint64_t>*>(cells_ + (position & (capacity_ - 1)) *
                                                                       cell_size_);
  }
  std::byte* payload(std::uint64_t position) const {
    return cells_ + (position & (capacity_ - 1)) * cell_size_ + 8;
  }

  // The element's bytes, copied with a constant size where it is a common
  // one (the compiler then moves it in a few registers instead of calling
  // memcpy).
  void copy_element(void* to, const void* from) const noexcept {
    switch (element_size_) {
      case 8:
        std::memcpy(to, from, 8);
        return;
      case 16:
        std::memcpy(to, from, 16);
        return;
      case 32:
        std::memcpy(to, from, 32);
        return;
      case 64:
        std::memcpy(to, from, 64);
        return;
      default:
        std::memcpy(to, from, element_size_);
    }
  }

  // 1 pushed, 0 full, -1 corrupted (reported in `failure` unless null).
  int try_push(const void* element, Failure* failure) {
    std::uint64_t position = shared_->enqueue_pos.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint64_t seq = sequence(position).load(std::memory_order_acquire);
      const auto diff = static_cast<std::int64_t>(seq - position);
      if (diff == 0) {
        if (shared_->enqueue_pos.compare_exchange_weak(position, position + 1,
                                                       std::memory_order_relaxed)) {
          copy_element(payload(position), element);
          sequence(position).store(position + 1, std::memory_order_release);
          return 1;
        }
      } else if (diff < 0) {
        return 0;  // the cell still holds last lap's element: full
      } else {
        const std::uint64_t now = shared_->enqueue_pos.load(std::memory_order_relaxed);
        if (now == position) return corrupted(failure, position, seq);
        position = now;
      }
    }
  }

  int try_pop(void* element, Failure* failure) {
    std::uint64_t position = shared_->dequeue_pos.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint64_t seq = sequence(position).load(std::memory_order_acquire);
      const auto diff = static_cast<std::int64_t>(seq - (position + 1));
      if (diff == 0) {
        if (shared_->dequeue_pos.compare_exchange_weak(position, position + 1,
                                                       std::memory_order_relaxed)) {
          copy_element(element, payload(position));
          sequence(position).store(position + capacity_, std::memory_order_release);
          return 1;
        }
      } else if (diff < 0) {
        return 0;  // not yet published: empty
      } else {
        const std::uint64_t now = shared_->dequeue_pos.load(std::memory_order_relaxed);
        if (now == position) return corrupted(failure, position, seq);
        position = now;
      }
    }
  }

  int corrupted(Failure* failure, std::uint64_t position, std::uint64_t seq) {
    if (failure == nullptr) return -1;
    failure->set(errc::corrupted, "queue " + quoted(name_) + ": the cell for position " +
                                      std::to_string(position) + " has sequence " +
                                      std::to_string(seq) +
                                      ", which no healthy queue can have; remove it and create "
                                      "it again");
    return -1;
  }

  bool has_space() const {
    const std::uint64_t position = shared_->enqueue_pos.load(std::memory_order_relaxed);
    return static_cast<std::int64_t>(sequence(position).load(std::memory_order_acquire) -
                                     position) >= 0;
  }
  bool has_item() const {
    const std::uint64_t position = shared_->dequeue_pos.load(std::memory_order_relaxed);
    return static_cast<std::int64_t>(sequence(position).load(std::memory_order_acquire) -
                                     (position + 1)) >= 0;
  }

  SleepWords consumer_words() const {
    return {shared_->consumer_sleepers, shared_->items_signal, *segment_.waiters[0], heavy_};
  }
  SleepWords producer_words() const {
    return {shared_->producer_sleepers, shared_->space_signal, *segment_.waiters[1], heavy_};
  }

  SyncSegment segment_;
  QueueShared* shared_;
  std::byte* cells_;
  std::size_t capacity_;
  std::size_t cell_size_;
  std::size_t element_size_;
  std::string name_;
  WaitOptions wait_;
  // As a ring's (ring_core.hpp): this process skips the waker's fence;
  // sleepers pay with a heavy barrier.
  bool fenceless_;
  bool heavy_;
};

namespace {

QueueImpl* open_queue(std::string_view name_view, QueueOpen how, std::size_t capacity,
                      const ElementType& type, const QueueOptions& options, Failure& failure) {
  if (!check_name(name_view, failure)) return nullptr;
  const std::string name(name_view);
  const std::string what = "queue " + quoted(name);
  const OpenMode mode = how == QueueOpen::create ? OpenMode::create
                        : how == QueueOpen::open ? OpenMode::open
                                                 : OpenMode::open_or_create;
  QueueInit init{layout_for(capacity, type), type};
  std::size_t state_size = 0;
  if (mode != OpenMode::open) {
    if (capacity == 0 || capacity > k_max_queue_cells) {
      failure.set(errc::invalid_size, what + ": a capacity of " + std::to_string(capacity) +
                                          " elements; use 1 to " +
                                          std::to_string(k_max_queue_cells));
      return nullptr;
    }
    state_size =
        k_queue_offset + sizeof(QueueShared) + init.layout.capacity * init.layout.cell_size;
  }
  const SyncRequest request{ObjectKind::queue, k_queue_layout, state_size, 2, false,
                            &initialize_queue, &init};
  SyncSegment segment =
      open_sync_segment(name, segment_options_for(options), mode, request, failure);
  if (failure) return nullptr;
  // Judge what the creator wrote, whoever that was.
  if (segment.state_size < k_queue_offset + sizeof(QueueShared)) {
    failure.set(errc::corrupted, what + " is too small for a queue");
    return nullptr;
  }
  auto* shared =
      reinterpret_cast<QueueShared*>(static_cast<std::byte*>(segment.state) + k_queue_offset);
  const std::uint64_t cells = shared->capacity;
  const std::uint64_t cell_size = shared->cell_size;
  const std::uint64_t element_size = shared->element_size;
  const std::uint64_t element_align = shared->element_align;
  const std::uint64_t schema = shared->schema_id;
  const std::size_t room = segment.state_size - k_queue_offset - sizeof(QueueShared);
  const bool power_of_two = cells >= 2 && (cells & (cells - 1)) == 0 && cells <= k_max_queue_cells;
  if (!power_of_two || cell_size < 8 + element_size || cell_size % 8 != 0 || cell_size > room ||
      cells > room / cell_size) {
    failure.set(errc::corrupted, what + " has a corrupted layout (" + std::to_string(cells) +
                                     " cells of " + std::to_string(cell_size) + " bytes in " +
                                     std::to_string(room) + "); remove it and create it again");
    return nullptr;
  }
  if (element_size != type.size || element_align != type.align || schema != type.schema_id) {
    failure.set(errc::type_mismatch,
                what + " holds " + std::to_string(element_size) + "-byte elements aligned to " +
                    std::to_string(element_align) + " (schema " + std::to_string(schema) +
                    "), but this code uses " + std::to_string(type.size) +
                    "-byte elements aligned to " + std::to_string(type.align) + " (schema " +
                    std::to_string(type.schema_id) +
                    "); open it with the type it was created with");
    return nullptr;
  }
  if (mode == OpenMode::open_or_create && !segment.memory.created() &&
      cells != init.layout.capacity) {
    failure.set(errc::size_mismatch,
                what + " exists with " + std::to_string(cells) + " cells, requested " +
                    std::to_string(init.layout.capacity) + "; open it without a capacity");
    return nullptr;
  }
  return new QueueImpl(std::move(segment), shared, static_cast<std::size_t>(cells),
                       static_cast<std::size_t>(cell_size), static_cast<std::size_t>(element_size),
                       name, options.wait);
}

// Misuse changes nothing and is errc::invalid_state.
bool usable(const QueueImpl* impl, const char* call, Failure& failure) {
  if (impl != nullptr) return true;
  failure.set(errc::invalid_state, std::string("Queue::") + call +
                                       " on an empty Queue handle (default-constructed or moved "
                                       "from); open the queue first");
  return false;
}

// One body for both faces: throws when `ec` is null, else fills it.
template <typename Fn>
auto run(std::error_code* ec, Fn&& fn) {
  if (ec == nullptr) return throwing(std::forward<Fn>(fn));
  return without_throwing(*ec, std::forward<Fn>(fn));
}

}  // namespace

QueueCore::QueueCore(QueueCore&& other) noexcept : impl_(other.impl_) {
  other.impl_ = nullptr;
}
QueueCore& QueueCore::operator=(QueueCore&& other) noexcept {
  if (this != &other) {
    delete impl_;
    impl_ = other.impl_;
    other.impl_ = nullptr;
  }
  return *this;
}
QueueCore::~QueueCore() {
  delete impl_;
}

QueueCore QueueCore::open(std::string_view name, QueueOpen mode, std::size_t capacity,
                          const ElementType& type, const QueueOptions& options,
                          std::error_code* ec) {
  return run(ec, [&](Failure& f) {
    QueueCore core;
    core.impl_ = open_queue(name, mode, capacity, type, options, f);
    return core;
  });
}

bool QueueCore::remove(std::string_view name, const QueueOptions& options, std::error_code* ec) {
  return run(ec, [&](Failure& f) {
    return check_name(name, f) &&
           remove_sync_segment(std::string(name), segment_options_for(options), 2, f);
  });
}

bool QueueCore::exists(std::string_view name, const QueueOptions& options, std::error_code* ec) {
  return run(ec, [&](Failure& f) {
    if (!check_name(name, f)) return false;
    std::error_code code;
    const bool found = NamedSharedMemory::exists(name, segment_options_for(options), code);
    if (code) f.set(code, error_message(code));
    return found;
  });
}

bool QueueCore::push(const void* element, Deadline deadline, std::error_code* ec) {
  bool spun = false;
  if (impl_ != nullptr) {
    const int result = impl_->push_fast(element, deadline);
    if (result > 0) {
      if (ec != nullptr) ec->clear();
      return true;
    }
    spun = result == 0;
  }
  return run(ec, [&](Failure& f) {
    return usable(impl_, "push", f) && impl_->push(element, deadline, f, spun);
  });
}

bool QueueCore::pop(void* element, Deadline deadline, std::error_code* ec) {
  bool spun = false;
  if (impl_ != nullptr) {
    const int result = impl_->pop_fast(element, deadline);
    if (result > 0) {
      if (ec != nullptr) ec->clear();
      return true;
    }
    spun = result == 0;
  }
  return run(ec, [&](Failure& f) {
    return usable(impl_, "pop", f) && impl_->pop(element, deadline, f, spun);
  });
}

std::size_t QueueCore::capacity() const noexcept {
  return impl_ ? impl_->capacity() : 0;
}
const std::string& QueueCore::name() const noexcept {
  static const std::string empty;
  return impl_ ? impl_->name() : empty;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
