#include "messaging/ring_core.hpp"
#include <shmkit/config.hpp>

#include "core/process_identity.hpp"
#include "segment/segment_header.hpp"
#include "sync/process_barrier.hpp"

#include <cstddef>
#include <cstring>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

void corrupted(Failure& failure, const std::string& what, const std::string& detail) {
  failure.set(errc::corrupted, what + ": " + detail +
                                   "; the ring's memory was overwritten, remove it and create "
                                   "it again");
}

}  // namespace

std::size_t ring_capacity_for(std::size_t requested) noexcept {
  if (requested > k_max_ring_capacity) return 0;
  std::size_t capacity = k_min_ring_capacity;
  while (capacity < requested) capacity *= 2;
  return capacity;
}

void initialize_ring(RingShared& shared, std::size_t capacity) noexcept {
  shared.capacity = capacity;
  shared.data_offset = sizeof(RingShared);
}

std::size_t validate_ring(const RingShared& shared, std::size_t available, const std::string& what,
                          Failure& failure) {
  const std::uint64_t capacity = shared.capacity;
  const std::uint64_t offset = shared.data_offset;
  const bool power_of_two = capacity != 0 && (capacity & (capacity - 1)) == 0;
  if (!power_of_two || capacity < k_min_ring_capacity || capacity > k_max_ring_capacity ||
      offset != sizeof(RingShared) || available < offset || available - offset < capacity) {
    corrupted(failure, what,
              "its control block claims " + std::to_string(capacity) + " data bytes at offset " +
                  std::to_string(offset) + " but the mapping holds " + std::to_string(available));
    return 0;
  }
  const std::uint64_t head = shared.head.load(std::memory_order_acquire);
  const std::uint64_t tail = shared.tail.load(std::memory_order_acquire);
  if (!valid_span(tail, head, capacity)) {
    corrupted(failure, what,
              "its indices (head " + std::to_string(head) + ", tail " + std::to_string(tail) +
                  ") do not describe a ring of " + std::to_string(capacity) + " bytes");
    return 0;
  }
  return static_cast<std::size_t>(capacity);
}

bool PeerWatch::gone(std::uint64_t word) {
  if (word == 0) return false;  // nobody has taken the role yet: wait for them
  if (word == k_endpoint_closed) return true;
  const auto now = std::chrono::steady_clock::now();
  if (word == word_ && now - checked_ < k_peer_check_interval) return gone_;
  word_ = word;
  checked_ = now;
  gone_ = !is_alive(word >> 32, word, k_slot_start_time_mask);
  return gone_;
}

PeerPresence::PeerPresence(std::atomic<std::uint64_t>& word, std::atomic<std::uint32_t>& generation)
    : word_(&word), generation_(&generation) {
  known_generation_ = generation.load(std::memory_order_acquire);
  was_here_ = present();
}

bool PeerPresence::present() {
  const std::uint32_t generation = generation_->load(std::memory_order_acquire);
  const std::uint64_t word = word_->load(std::memory_order_acquire);
  if (word != 0 && !watch_.gone(word)) {
    known_generation_ = generation;
    was_here_ = true;
    return true;
  }
  // A peer attached and left between two looks: it was here too.
  if (generation != known_generation_) {
    known_generation_ = generation;
    was_here_ = true;
  }
  return false;
}

std::uint32_t next_generation(std::atomic<std::uint32_t>& counter) noexcept {
  for (;;) {
    const std::uint32_t generation = counter.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (generation != 0) return generation;
  }
}

bool claim_endpoint(std::atomic<std::uint64_t>& word, const std::string& what, const char* role,
                    Failure& failure) {
  const std::uint64_t self = pack_slot(current_process());
  for (;;) {
    std::uint64_t holder = word.load(std::memory_order_acquire);
    const bool free = holder == 0 || holder == k_endpoint_closed ||
                      (holder != self && !is_alive(holder >> 32, holder, k_slot_start_time_mask));
    if (!free) {
      failure.set(errc::role_taken,
                  what + " already has a live " + role + " (pid " + std::to_string(holder >> 32) +
                      (holder == self ? ", this process" : "") +
                      "); only one process holds it at a time: close that handle or stop that "
                      "process first");
      return false;
    }
    if (word.compare_exchange_strong(holder, self, std::memory_order_acq_rel)) return true;
  }
}

void close_endpoint(std::atomic<std::uint64_t>& word) noexcept {
  std::uint64_t self = pack_slot(current_process());
  word.compare_exchange_strong(self, k_endpoint_closed, std::memory_order_acq_rel);
}

// ---- producer ---------------------------------------------------------------

ProducerCore::ProducerCore(RingShared& shared, std::size_t capacity, WordWaiter& data_waiter,
                           WordWaiter& space_waiter, std::string what, const WaitOptions& wait,
                           Failure& failure)
    : data_waiter_(&data_waiter),
      space_waiter_(&space_waiter),
      what_(std::move(what)),
      wait_(wait) {
  capacity_ = capacity;
  if (!claim_endpoint(shared.producer, what_, "producer", failure)) return;
  shared_ = &shared;
  generation_ = next_generation(shared.producer_generation);
  consumer_ = PeerPresence(shared.consumer, shared.consumer_generation);
  fenceless_ = register_for_heavy_barrier();
  heavy_ = heavy_barrier_exists();
  data_ = reinterpret_cast<std::byte*>(&shared) + sizeof(RingShared);
  // Taking over from an earlier producer: continue after what it published.
  // Whatever it reserved but never committed is simply overwritten.
  published_head_ = head_ = shared.head.load(std::memory_order_acquire);
  refresh_tail(failure);
  // A consumer waiting for a producer (wait_for_peer) learns of this one.
  wake_every_sleeper(SleepWords{shared.consumer_sleepers, shared.data_signal, *data_waiter_});
}

ProducerCore::~ProducerCore() {
  if (shared_ == nullptr) return;
  publish();  // deferred commits are not lost by closing
  close_endpoint(shared_->producer);
  // A sleeping consumer must learn that no more is coming.
  wake_every_sleeper(SleepWords{shared_->consumer_sleepers, shared_->data_signal, *data_waiter_});
}

bool ProducerCore::refresh_tail(Failure& failure) {
  const std::uint64_t tail = shared_->tail.load(std::memory_order_acquire);
  if (!valid_span(tail, published_head_, capacity_)) {
    corrupted(failure, what_,
              "the consumer's index " + std::to_string(tail) + " is not within the " +
                  std::to_string(capacity_) + " bytes before the producer's " +
                  std::to_string(published_head_));
    return false;
  }
  cached_tail_ = tail;
  return true;
}

ByteSpan ProducerCore::reserve(std::size_t size, Deadline deadline, Failure& failure, bool spun) {
  if (reserved_) {
    failure.set(errc::invalid_state,
                what_ + ": reserve() while a reservation is open; commit() it first");
    return {};
  }
  if (size > max_message_size()) {
    failure.set(errc::message_too_large, what_ + ": a message of " + std::to_string(size) +
                                             " bytes does not fit; this ring takes at most " +
                                             std::to_string(max_message_size()));
    return {};
  }
  const std::uint64_t need = align8(k_record_header_size + size);
  for (;;) {
    const std::uint64_t offset = head_ & (capacity_ - 1);
    const std::uint64_t contiguous = capacity_ - offset;
    // A message that does not fit before the end first needs a padding
    // record to the end. The padding is published on its own, so that the
    // consumer frees it before the message is placed: that way even a
    // message of almost the whole capacity fits once the ring has drained.
    const std::uint64_t wanted = need <= contiguous ? need : contiguous;
    if (wanted > free_bytes()) {
      if (!refresh_tail(failure)) return {};
      if (wanted > free_bytes()) {
        publish();  // our own deferred commits may be what fills the ring
        const WaitResult result = wait_for_peer(
            spun ? after_fast_spin(wait_) : wait_, deadline, producer_words(),
            [&] {
              return capacity_ - (head_ - shared_->tail.load(std::memory_order_acquire)) >= wanted;
            },
            [&] { return consumer_.gone(); });
        if (result == WaitResult::timed_out) return {};
        if (result == WaitResult::peer_gone) {
          failure.set(errc::peer_gone,
                      what_ + ": the consumer has exited or closed and the ring is full");
          return {};
        }
        continue;  // re-read and re-validate the tail
      }
    }
    if (need > contiguous) {
      const RecordHeader padding{
          static_cast<std::uint32_t>(contiguous - k_record_header_size) | k_record_padding,
          generation_};
      std::memcpy(data_ + offset, &padding, sizeof padding);
      head_ += contiguous;
      publish();  // (this also publishes deferred commits: they are older)
      continue;
    }
    reserved_at_ = head_;
    reserved_size_ = size;
    reserved_ = true;
    return ByteSpan{data_ + offset + k_record_header_size, size};
  }
}

void ProducerCore::commit(std::size_t used, bool publish_now, Failure& failure) {
  if (!reserved_) {
    failure.set(errc::invalid_state, what_ + ": commit() with nothing reserved; reserve() first");
    return;
  }
  if (used > reserved_size_) {
    failure.set(errc::message_too_large,
                what_ + ": commit() of " + std::to_string(used) + " bytes, but reserve() gave " +
                    std::to_string(reserved_size_) + "; commit at most what was reserved");
    return;
  }
  write_header(reserved_at_, used);
  head_ = reserved_at_ + align8(k_record_header_size + used);
  reserved_ = false;
  if (publish_now) publish();
}

bool ProducerCore::await_peer(Deadline deadline) {
  return wait_for_peer(
             wait_, deadline,
             SleepWords{shared_->producer_sleepers, shared_->space_signal, *space_waiter_},
             [&] { return consumer_.present(); }, [] { return false; }) == WaitResult::ready;
}

// The hook sees the published head only: this handle's deferred commits
// (commit_deferred() before flush()) and its open reservation are not
// counted, because the hook runs on the watcher thread and must not read
// this core's fields, which the owning thread changes without a lock. The
// space they take is the producer's own doing; wait_set.hpp tells the user
// to flush() before waiting.
WaitHook ProducerCore::wait_hook(std::size_t message_size) const {
  WaitHook hook;
  RingShared* shared = shared_;
  const std::size_t capacity = capacity_;
  const std::uint64_t need = align8(k_record_header_size + std::uint64_t{message_size});
  PeerPresence consumer = consumer_;  // the hook's own: it runs on the watcher thread
  hook.ready = [shared, capacity, need, consumer]() mutable {
    const std::uint64_t head = shared->head.load(std::memory_order_acquire);
    const std::uint64_t tail = shared->tail.load(std::memory_order_acquire);
    if (!valid_span(tail, head, capacity)) return true;  // reserve() reports it at once
    const std::uint64_t contiguous = capacity - (head & (capacity - 1));
    // A message that must wrap first needs room for the padding to the end;
    // reserve() then places the padding, which lets the consumer free it.
    const std::uint64_t wanted = need <= contiguous ? need : contiguous;
    return capacity - (head - tail) >= wanted || consumer.gone();
  };
  hook.sleepers = &shared_->producer_sleepers;
  hook.signal = &shared_->space_signal;
  hook.waiter = space_waiter_;
  hook.fenceless_wakers = heavy_;
  return hook;
}

// ---- consumer ---------------------------------------------------------------

ConsumerCore::ConsumerCore(RingShared& shared, std::size_t capacity, WordWaiter& data_waiter,
                           WordWaiter& space_waiter, std::string what, const WaitOptions& wait,
                           Failure& failure)
    : data_waiter_(&data_waiter),
      space_waiter_(&space_waiter),
      what_(std::move(what)),
      wait_(wait) {
  capacity_ = capacity;
  if (!claim_endpoint(shared.consumer, what_, "consumer", failure)) return;
  shared_ = &shared;
  generation_ = next_generation(shared.consumer_generation);
  producer_ = PeerPresence(shared.producer, shared.producer_generation);
  fenceless_ = register_for_heavy_barrier();
  heavy_ = heavy_barrier_exists();
  data_ = reinterpret_cast<std::byte*>(&shared) + sizeof(RingShared);
  tail_ = peeked_end_ = last_peek_at_ = shared.tail.load(std::memory_order_acquire);
  cached_head_ = tail_;
  refresh_head(failure);
}

ConsumerCore::~ConsumerCore() {
  if (shared_ == nullptr) return;
  close_endpoint(shared_->consumer);
  wake_every_sleeper(SleepWords{shared_->producer_sleepers, shared_->space_signal, *space_waiter_});
}

bool ConsumerCore::refresh_head(Failure& failure) {
  const std::uint64_t head = shared_->head.load(std::memory_order_acquire);
  if (!valid_span(tail_, head, capacity_) || head < peeked_end_) {
    corrupted(failure, what_,
              "the producer's index " + std::to_string(head) + " is not within the " +
                  std::to_string(capacity_) + " bytes after the consumer's " +
                  std::to_string(tail_));
    return false;
  }
  cached_head_ = head;
  return true;
}

ConstByteSpan ConsumerCore::parse(Failure& failure) {
  for (;;) {
    if (peeked_end_ == cached_head_) {
      if (!refresh_head(failure) || peeked_end_ == cached_head_) return {};
    }
    const std::uint64_t available = cached_head_ - peeked_end_;
    const std::uint64_t offset = peeked_end_ & (capacity_ - 1);
    const std::uint64_t contiguous = capacity_ - offset;
    RecordHeader header;
    std::memcpy(&header, data_ + offset, sizeof header);  // one copy: judged, then used
    if (header.length ==
            (static_cast<std::uint32_t>(contiguous - k_record_header_size) | k_record_padding) &&
        contiguous <= available) {
      const bool at_front = peeked_end_ == tail_;
      peeked_end_ += contiguous;
      // Padding nobody holds a peek into is freed at once: the producer may
      // be waiting for exactly that space.
      if (at_front) release();
      continue;
    }
    const std::uint64_t record = align8(k_record_header_size + std::uint64_t{header.length});
    if ((header.length & k_record_padding) != 0 || header.generation == 0 || record > contiguous ||
        record > available) {
      corrupted(failure, what_,
                "the record at " + std::to_string(peeked_end_) + " (generation " +
                    std::to_string(header.generation) + ", length word " +
                    std::to_string(header.length) + ") does not fit the " +
                    std::to_string(available) + " committed bytes");
      return {};
    }
    last_peek_at_ = peeked_end_;
    last_peek_generation_ = message_generation_;
    message_generation_ = header.generation;
    peeked_end_ += record;
    return ConstByteSpan{data_ + offset + k_record_header_size, header.length};
  }
}

ConstByteSpan ConsumerCore::peek(Deadline deadline, Failure& failure, bool spun) {
  for (;;) {
    const ConstByteSpan message = parse(failure);
    if (message || failure) return message;
    const WaitResult result = wait_for_peer(
        spun ? after_fast_spin(wait_) : wait_, deadline, consumer_words(),
        [&] { return shared_->head.load(std::memory_order_acquire) != cached_head_; },
        [&] { return producer_.gone(); });
    if (result == WaitResult::timed_out) return {};
    if (result == WaitResult::peer_gone) {
      failure.set(errc::peer_gone, what_ +
                                       ": the producer has exited or closed, and every message "
                                       "it committed has been read");
      return {};
    }
  }
}

bool ConsumerCore::await_peer(Deadline deadline) {
  return wait_for_peer(
             wait_, deadline,
             SleepWords{shared_->consumer_sleepers, shared_->data_signal, *data_waiter_},
             [&] { return producer_.present(); }, [] { return false; }) == WaitResult::ready;
}

WaitHook ConsumerCore::wait_hook() const {
  WaitHook hook;
  RingShared* shared = shared_;
  PeerPresence producer = producer_;  // the hook's own: it runs on the watcher thread
  hook.ready = [shared, producer]() mutable {
    return shared->head.load(std::memory_order_acquire) !=
               shared->tail.load(std::memory_order_acquire) ||
           producer.gone();
  };
  hook.sleepers = &shared_->consumer_sleepers;
  hook.signal = &shared_->data_signal;
  hook.waiter = data_waiter_;
  hook.fenceless_wakers = heavy_;
  return hook;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
