// The single-producer single-consumer byte ring behind Ring and Channel.
//
// Shared layout: a RingShared control block (each index on a cache line of
// its own) and a power-of-two data area of variable-length records. A record
// is an 8-byte header {length, generation} and its payload, padded to 8
// bytes. The generation is the committing producer's (never 0), so that a
// consumer tells a dead producer's leftovers from its successor's messages
// at no cost on the fast path. The top bit of the length marks padding.
// A message never wraps: when it does not fit before the end, the producer
// fills the rest with one padding record and starts again at offset 0, so
// every message is one contiguous span that can be handed out zero-copy.
//
// head and tail are running byte counts (never wrapped), so full and empty
// are unambiguous. Each side keeps a private copy of the other's index and
// reads the shared one only when its copy says it must: no shared write and
// no syscall on the fast path.
//
// Everything the other process wrote is checked before use: the indices
// against each other and the capacity, every record header against the bytes
// actually committed. A failed check is errc::corrupted, never an access
// outside the data area.
#pragma once

#include "core/failure.hpp"
#include "messaging/peer_wait.hpp"
#include "messaging/wait_hook.hpp"

#include <shmkit/byte_span.hpp>
#include <shmkit/wait_options.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

inline constexpr std::size_t k_record_header_size = 8;
// Set in a record's length: padding to the end of the data area.
inline constexpr std::uint32_t k_record_padding = 0x80000000u;
// The largest message a record can describe, whatever the capacity.
inline constexpr std::size_t k_max_record_length = 0x7ffffff8u;
inline constexpr std::size_t k_min_ring_capacity = 256;
// 2 GiB: a record's length (padding included) fits in 31 bits.
inline constexpr std::size_t k_max_ring_capacity = std::size_t{1} << 31;
static_assert(k_max_ring_capacity - k_record_header_size == k_max_record_length,
              "every message of the largest ring has a length a record can hold");

// Endpoint words: 0 until a process takes the role, k_endpoint_closed after a
// clean close, pack_slot(identity) while a process holds it.
inline constexpr std::uint64_t k_endpoint_closed = 1;

inline constexpr std::uint64_t align8(std::uint64_t n) noexcept {
  return (n + 7) & ~std::uint64_t{7};
}

struct RecordHeader {
  std::uint32_t length;      // k_record_padding set: padding to the end
  std::uint32_t generation;  // the committing producer's; never 0
};
static_assert(sizeof(RecordHeader) == k_record_header_size);

// Whether [older, newer) can be the bytes between two indices of a ring of
// `capacity`: in order, within the capacity, on record boundaries.
inline bool valid_span(std::uint64_t older, std::uint64_t newer, std::size_t capacity) noexcept {
  return newer >= older && newer - older <= capacity && (older & 7) == 0 && (newer & 7) == 0;
}

struct alignas(64) RingShared {
  std::uint64_t capacity;     // data bytes: a power of two
  std::uint64_t data_offset;  // from the start of this block to the data area
  std::uint8_t reserved0[48];
  alignas(64) std::atomic<std::uint64_t> head;  // written by the producer only
  alignas(64) std::atomic<std::uint64_t> tail;  // written by the consumer only
  alignas(64) std::atomic<std::uint32_t> consumer_sleepers;
  std::atomic<std::uint32_t> data_signal;
  alignas(64) std::atomic<std::uint32_t> producer_sleepers;
  std::atomic<std::uint32_t> space_signal;
  alignas(64) std::atomic<std::uint64_t> producer;
  std::atomic<std::uint64_t> consumer;
  // Incremented by every attach of the role: the attaching endpoint's
  // generation. Only ever compared, so any value is harmless.
  std::atomic<std::uint32_t> producer_generation;
  std::atomic<std::uint32_t> consumer_generation;
};

// Bytes a ring of `capacity` needs: its control block and its data.
constexpr std::size_t ring_footprint(std::size_t capacity) {
  return sizeof(RingShared) + capacity;
}

// The usable capacity for a requested one: a power of two within bounds, or 0.
std::size_t ring_capacity_for(std::size_t requested) noexcept;

// Fills a zeroed control block; the data area follows it directly.
void initialize_ring(RingShared& shared, std::size_t capacity) noexcept;

// Checks a control block another process made; returns its capacity, or 0
// with `failure` set. `available` is the bytes from `shared` to the end of
// the mapping.
std::size_t validate_ring(const RingShared& shared, std::size_t available, const std::string& what,
                          Failure& failure);

// Whether the process behind an endpoint word is gone, with its liveness
// check (a /proc read on Linux) done at most once per interval.
class PeerWatch {
 public:
  bool gone(std::uint64_t word);

 private:
  std::uint64_t word_ = 0;
  bool gone_ = false;
  std::chrono::steady_clock::time_point checked_{};
};

// Whether the other end of a ring is here, and whether one that was here
// left: "gone" only for a peer that was attached while we were (or that
// attached after us), never for one that has not come yet. Sticky until a
// new peer attaches.
class PeerPresence {
 public:
  PeerPresence() = default;
  PeerPresence(std::atomic<std::uint64_t>& word, std::atomic<std::uint32_t>& generation);
  // A live peer is attached now.
  bool present();
  // The peer that was here has left, and no new one is attached.
  bool gone() { return !present() && was_here_; }

 private:
  std::atomic<std::uint64_t>* word_ = nullptr;
  std::atomic<std::uint32_t>* generation_ = nullptr;
  std::uint32_t known_generation_ = 0;
  bool was_here_ = false;
  PeerWatch watch_;
};

// What a fast path says: done; not now (the ring is full, or empty), so
// spin and try again; or take the general path, which also reports errors.
enum class FastResult { done, not_now, general };

// try_receive_fast(): the ring is empty / take the general path.
inline constexpr std::size_t k_receive_empty = SIZE_MAX - 1;
inline constexpr std::size_t k_receive_general = SIZE_MAX;

// The next generation in `counter` (skipping 0, which means "none").
std::uint32_t next_generation(std::atomic<std::uint32_t>& counter) noexcept;

// Claims the producer or consumer role in `word`, taking it over from a dead
// or closed holder. errc::role_taken if a live process holds it.
bool claim_endpoint(std::atomic<std::uint64_t>& word, const std::string& what, const char* role,
                    Failure& failure);
void close_endpoint(std::atomic<std::uint64_t>& word) noexcept;

class ProducerCore {
 public:
  ProducerCore() = default;
  // `capacity` is the one validate_ring() returned: never re-read from
  // shared memory, where another process could change it.
  ProducerCore(RingShared& shared, std::size_t capacity, WordWaiter& data_waiter,
               WordWaiter& space_waiter, std::string what, const WaitOptions& wait,
               Failure& failure);
  ProducerCore(const ProducerCore&) = delete;
  ProducerCore& operator=(const ProducerCore&) = delete;
  ~ProducerCore();

  std::size_t max_message_size() const noexcept { return capacity_ - k_record_header_size; }
  std::uint32_t generation() const noexcept { return generation_; }
  std::uint32_t peer_generation() const noexcept {
    return shared_->consumer_generation.load(std::memory_order_acquire);
  }
  // Waits until a live consumer is attached; false at the deadline.
  bool await_peer(Deadline deadline);
  std::size_t reserved_size() const noexcept { return reserved_ ? reserved_size_ : 0; }
  // Ready: reserving `message_size` bytes would not wait (or would fail at
  // once: the consumer is gone, the indices are corrupt). Counts published
  // messages only. The hook keeps its own copy of what it needs, so that a
  // watcher thread never touches this core.
  WaitHook wait_hook(std::size_t message_size) const;

  // A writable span of `size` bytes, or an empty one at the deadline.
  // `spun`: a fast path has spun already (an adaptive endpoint sleeps).
  ByteSpan reserve(std::size_t size, Deadline deadline, Failure& failure, bool spun = false);
  // Makes the first `used` bytes of the reservation a message; with
  // `publish` false it stays invisible until the next publish().
  void commit(std::size_t used, bool publish, Failure& failure);
  void publish() noexcept;

  // The common case of a copying send, with no error plumbing: no open
  // reservation and room before the end of the ring. not_now: the ring is
  // full (spin on it); general: take the general path (which also reports
  // any error), not "failed".
  FastResult try_send_fast(const void* data, std::size_t size) noexcept;
  // The same for reserve(): `span` is set when done.
  FastResult try_reserve_fast(std::size_t size, ByteSpan& span) noexcept;
  // commit() of a valid reservation; false: take the general path.
  bool try_commit_fast(std::size_t used) noexcept {
    if (!reserved_ || used > reserved_size_) return false;
    write_header(reserved_at_, used);
    head_ = reserved_at_ + ((k_record_header_size + used + 7) & ~std::uint64_t{7});
    reserved_ = false;
    publish();
    return true;
  }
  const WaitOptions& wait_options() const noexcept { return wait_; }

 private:
  bool refresh_tail(Failure& failure);
  std::size_t free_bytes() const noexcept { return capacity_ - (head_ - cached_tail_); }
  // Room for a record of `need` bytes before the end of the ring, refreshing
  // the cached tail when it says there is none.
  FastResult fast_room(std::uint64_t need) noexcept;
  void write_header(std::uint64_t at, std::size_t length) noexcept {
    // The header's two words stored one by one: cheaper than building it.
    const auto word = static_cast<std::uint32_t>(length);
    std::byte* header = data_ + (at & (capacity_ - 1));
    std::memcpy(header, &word, sizeof word);
    std::memcpy(header + sizeof word, &generation_, sizeof generation_);
  }
  SleepWords consumer_words() const noexcept {
    return {shared_->consumer_sleepers, shared_->data_signal, *data_waiter_, heavy_};
  }
  SleepWords producer_words() const noexcept {
    return {shared_->producer_sleepers, shared_->space_signal, *space_waiter_, heavy_};
  }

  RingShared* shared_ = nullptr;
  std::byte* data_ = nullptr;
  std::size_t capacity_ = 0;
  WordWaiter* data_waiter_ = nullptr;
  WordWaiter* space_waiter_ = nullptr;
  std::string what_;
  WaitOptions wait_;
  std::uint64_t head_ = 0;            // next free byte, including unpublished records
  std::uint64_t published_head_ = 0;  // what the consumer can see
  std::uint64_t cached_tail_ = 0;
  std::uint64_t reserved_at_ = 0;  // header position of the open reservation
  std::size_t reserved_size_ = 0;
  bool reserved_ = false;
  std::uint32_t generation_ = 0;
  // This process skips the waker's fence (it is registered for heavy
  // barriers); sleepers on this ring pay with one (the platform has them).
  bool fenceless_ = false;
  bool heavy_ = false;
  PeerPresence consumer_;
};

class ConsumerCore {
 public:
  ConsumerCore() = default;
  ConsumerCore(RingShared& shared, std::size_t capacity, WordWaiter& data_waiter,
               WordWaiter& space_waiter, std::string what, const WaitOptions& wait,
               Failure& failure);
  ConsumerCore(const ConsumerCore&) = delete;
  ConsumerCore& operator=(const ConsumerCore&) = delete;
  ~ConsumerCore();

  // The next message, or an empty span at the deadline. Peeking again before
  // release() returns the next message after the ones already peeked.
  // `spun`: a fast path has spun already (an adaptive endpoint sleeps).
  ConstByteSpan peek(Deadline deadline, Failure& failure, bool spun = false);
  // The common case of peek(): the next whole message, validated. not_now:
  // the ring is empty; general: take the general path (padding, or
  // anything suspect, which it reports).
  FastResult try_peek_fast(ConstByteSpan& message) noexcept;
  // Frees every peeked message.
  void release() noexcept;
  // Takes back the last peek, so that the next peek returns it again.
  void unpeek_last() noexcept {
    peeked_end_ = last_peek_at_;
    message_generation_ = last_peek_generation_;
  }

  // The common case of a copying receive: nothing peeked, a whole message
  // waiting that fits `capacity`. Returns its size, k_receive_empty (spin on
  // it) or k_receive_general for "take the general path" (padding, too
  // large, or anything suspect).
  std::size_t try_receive_fast(void* buffer, std::size_t capacity) noexcept;
  const WaitOptions& wait_options() const noexcept { return wait_; }
  bool has_peeked() const noexcept { return peeked_end_ != tail_; }
  // Ready: the ring holds bytes this consumer has not released (a message;
  // padding that a receive frees and skips; or corrupt indices, which it
  // reports), or the producer is gone. Messages peeked and not released
  // keep it ready. A copy, like ProducerCore::wait_hook().
  WaitHook wait_hook() const;

  std::uint32_t generation() const noexcept { return generation_; }
  std::uint32_t peer_generation() const noexcept {
    return shared_->producer_generation.load(std::memory_order_acquire);
  }
  std::uint32_t message_generation() const noexcept { return message_generation_; }
  bool await_peer(Deadline deadline);

 private:
  // The next committed message after peeked_end_, validated; empty if none.
  ConstByteSpan parse(Failure& failure);
  bool refresh_head(Failure& failure);
  SleepWords consumer_words() const noexcept {
    return {shared_->consumer_sleepers, shared_->data_signal, *data_waiter_, heavy_};
  }
  SleepWords producer_words() const noexcept {
    return {shared_->producer_sleepers, shared_->space_signal, *space_waiter_, heavy_};
  }

  RingShared* shared_ = nullptr;
  std::byte* data_ = nullptr;
  std::size_t capacity_ = 0;
  WordWaiter* data_waiter_ = nullptr;
  WordWaiter* space_waiter_ = nullptr;
  std::string what_;
  WaitOptions wait_;
  std::uint64_t tail_ = 0;        // first byte not yet released
  std::uint64_t peeked_end_ = 0;  // first byte not yet handed out
  std::uint64_t cached_head_ = 0;
  std::uint64_t last_peek_at_ = 0;
  std::uint32_t last_peek_generation_ = 0;  // message_generation_ before the last peek
  std::uint32_t message_generation_ = 0;
  std::uint32_t generation_ = 0;
  bool fenceless_ = false;  // as ProducerCore's
  bool heavy_ = false;
  PeerPresence producer_;
};

// ---- the fast paths, inline: each send and receive is one call ------------

inline FastResult ProducerCore::fast_room(std::uint64_t need) noexcept {
  if (need > capacity_ - (head_ & (capacity_ - 1))) return FastResult::general;  // padding first
  if (need > free_bytes()) {
    const std::uint64_t tail = shared_->tail.load(std::memory_order_acquire);
    if (!valid_span(tail, published_head_, capacity_)) return FastResult::general;
    cached_tail_ = tail;
    if (need > free_bytes()) {
      // Our own deferred commits may be what the consumer needs to drain
      // the ring: visible before we spin, as the general path does.
      publish();
      return FastResult::not_now;
    }
  }
  return FastResult::done;
}

inline FastResult ProducerCore::try_send_fast(const void* data, std::size_t size) noexcept {
  if (reserved_ || size > max_message_size()) return FastResult::general;
  const std::uint64_t need = align8(k_record_header_size + size);
  const FastResult room = fast_room(need);
  if (room != FastResult::done) return room;
  write_header(head_, size);
  if (size != 0) std::memcpy(data_ + (head_ & (capacity_ - 1)) + k_record_header_size, data, size);
  head_ += need;
  publish();
  return FastResult::done;
}

inline FastResult ProducerCore::try_reserve_fast(std::size_t size, ByteSpan& span) noexcept {
  if (reserved_ || size > max_message_size()) return FastResult::general;
  const FastResult room = fast_room(align8(k_record_header_size + size));
  if (room != FastResult::done) return room;
  reserved_at_ = head_;
  reserved_size_ = size;
  reserved_ = true;
  span = ByteSpan{data_ + (head_ & (capacity_ - 1)) + k_record_header_size, size};
  return FastResult::done;
}

inline void ProducerCore::publish() noexcept {
  if (published_head_ == head_) return;
  shared_->head.store(head_, std::memory_order_release);
  published_head_ = head_;
  wake_sleepers(consumer_words(), 1, fenceless_);
}

inline std::size_t ConsumerCore::try_receive_fast(void* buffer, std::size_t capacity) noexcept {
  if (peeked_end_ != tail_) return k_receive_general;
  if (cached_head_ == tail_) {
    const std::uint64_t head = shared_->head.load(std::memory_order_acquire);
    if (head == tail_) return k_receive_empty;
    if (!valid_span(tail_, head, capacity_)) return k_receive_general;
    cached_head_ = head;
  }
  const std::uint64_t available = cached_head_ - tail_;
  const std::uint64_t offset = tail_ & (capacity_ - 1);
  RecordHeader header;
  std::memcpy(&header, data_ + offset, sizeof header);
  const std::uint64_t record = align8(k_record_header_size + std::uint64_t{header.length});
  // (A length with the padding bit makes a record longer than any ring, so
  // the size checks also send padding to the general path.)
  if (header.generation == 0 || record > capacity_ - offset || record > available ||
      header.length > capacity) {
    return k_receive_general;  // padding, a large message, or garbage: parse() judges it
  }
  // Stored before the copy, so that nothing but the length lives across it.
  message_generation_ = header.generation;
  if (header.length != 0) std::memcpy(buffer, data_ + offset + k_record_header_size, header.length);
  peeked_end_ = tail_ + record;
  release();
  return header.length;
}

inline FastResult ConsumerCore::try_peek_fast(ConstByteSpan& message) noexcept {
  if (peeked_end_ == cached_head_) {
    const std::uint64_t head = shared_->head.load(std::memory_order_acquire);
    if (head == peeked_end_) return FastResult::not_now;
    if (!valid_span(tail_, head, capacity_) || head < peeked_end_) return FastResult::general;
    cached_head_ = head;
  }
  const std::uint64_t available = cached_head_ - peeked_end_;
  const std::uint64_t offset = peeked_end_ & (capacity_ - 1);
  RecordHeader header;
  std::memcpy(&header, data_ + offset, sizeof header);  // one copy: judged, then used
  const std::uint64_t record = align8(k_record_header_size + std::uint64_t{header.length});
  // Padding (its length bit makes the record too long) and garbage go to
  // parse(), which frees the one and reports the other.
  if (header.generation == 0 || record > capacity_ - offset || record > available) {
    return FastResult::general;
  }
  last_peek_at_ = peeked_end_;
  last_peek_generation_ = message_generation_;
  message_generation_ = header.generation;
  peeked_end_ += record;
  message = ConstByteSpan{data_ + offset + k_record_header_size, header.length};
  return FastResult::done;
}

inline void ConsumerCore::release() noexcept {
  if (peeked_end_ == tail_) return;
  tail_ = peeked_end_;
  last_peek_at_ = tail_;
  shared_->tail.store(tail_, std::memory_order_release);
  wake_sleepers(producer_words(), 1, fenceless_);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
