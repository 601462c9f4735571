// The shared layout of a Topic: the control segment "<name>" (kind topic) and
// the sample pool "<name>.p" (kind topic_pool). Integers only, no pointers:
// every process that maps them (and anything that scribbles on them) sees the
// same words, and every word read is validated before use.
//
// Control segment, after the sync preamble (sync_segment.hpp), at
// k_topic_state_offset (so TopicControl starts on a cache line):
//   TopicControl      the config copy, the topic lock, counters, the
//                     publisher and subscriber slots (fixed size)
//   queues            TopicQueueEntry (32 bytes), max_subscribers *
//                     max_queue_depth of them: subscriber i's queue is entries
//                     [i * depth, (i+1) * depth)
//   history           u32 sample indices, `history` of them (a ring)
//   holders           u64 per sample: who holds it (the bits below)
// Waiter slots: k_topic_space_waiter (publishers waiting for a free sample or
// room in a block_publisher queue), k_topic_first_data_waiter + i (subscriber
// i's data), k_topic_lock_waiter (the topic lock's sleepers).
//
// Pool segment: a TopicPoolPreamble, then sample i at
// k_topic_pool_data_offset + i * stride: a TopicSampleHeader (written by the
// publisher as it publishes, when the topic keeps a history; read only when a
// late joiner is given the history, receives read the queue entry) and
// sample_size payload bytes.
// stride = round_up(k_topic_sample_header_size + sample_size, 64).
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/topic_options.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// "TPC3", in the sync preamble. TPC2: queue entries carry what a receiver
// needs (no pool header read), each queue's head and tail on lines of their
// own, the space sleepers on a line of their own. TPC3: the delivery journal
// in each publisher slot.
inline constexpr std::uint32_t k_topic_layout = 0x54504333;
inline constexpr std::uint64_t k_topic_pool_magic = 0x314c4f4f50435054ull;  // "TPCPOOL1"

// The state starts 8 bytes into the 64-byte aligned data (after the sync
// preamble); TopicControl starts on the next cache line.
inline constexpr std::size_t k_topic_state_offset = 56;

inline constexpr unsigned k_topic_space_waiter = 0;
inline constexpr unsigned k_topic_first_data_waiter = 1;  // + subscriber slot
inline constexpr unsigned k_topic_lock_waiter =
    k_topic_first_data_waiter + static_cast<unsigned>(k_max_topic_subscribers);
inline constexpr unsigned k_topic_waiter_slots = k_topic_lock_waiter + 1;

// holders bits: subscriber slot i (queued, or received and not yet
// dropped), publisher slot j (on loan), kept by the history ring, and the
// spare mark of publisher slot j. A sample is free iff its holders word is 0.
// A spare is a sample publisher j claimed ahead of its next loan (right after
// a publish, while it waits for whatever comes next): its word is exactly
// spare_word(j); its publisher turns it into a loan (spare_word(j) ->
// publisher_bit(j)) with a compare-and-swap, and so may any publisher that
// finds no free sample, so a spare never starves anyone. Counted as free.
constexpr std::uint64_t subscriber_bit(std::size_t slot) noexcept {
  return std::uint64_t{1} << slot;
}
constexpr std::uint64_t publisher_bit(std::size_t slot) noexcept {
  return std::uint64_t{1} << (32 + slot);
}
inline constexpr std::uint64_t k_history_bit = std::uint64_t{1} << 40;
constexpr std::uint64_t spare_bit(std::size_t slot) noexcept {
  return std::uint64_t{1} << (48 + slot);
}
constexpr std::uint64_t spare_word(std::size_t slot) noexcept {
  return publisher_bit(slot) | spare_bit(slot);
}
// Whether `word` is the spare of one of the first `publishers` slots.
constexpr bool is_spare_word(std::uint64_t word, std::size_t publishers) noexcept {
  if ((word >> 48) == 0) return false;
  for (std::size_t j = 0; j < publishers; ++j) {
    if (word == spare_word(j)) return true;
  }
  return false;
}

inline constexpr std::size_t k_topic_sample_header_size = 64;
inline constexpr std::size_t k_topic_pool_data_offset = 64;

// Slot identity words: 0 = free (never used, or reclaimed), k_topic_slot_closed
// = its holder closed it cleanly, k_topic_slot_released = its holder let go
// of it without the topic lock (a destructor that waited k_topic_lock_grace
// in vain): not claimable until a reclamation pass under the lock has
// scrubbed it (a publish that held the lock meanwhile may have left bits and
// queue entries in it), else pack_slot() of the holding process (never below
// 2^32: the pid is in the high half).
inline constexpr std::uint64_t k_topic_slot_closed = 1;
inline constexpr std::uint64_t k_topic_slot_released = 2;

// The config as the creator wrote it; copied and validated by every opener.
struct TopicConfigWords {
  std::uint64_t sample_size;
  std::uint64_t sample_count;
  std::uint64_t max_publishers;
  std::uint64_t max_subscribers;
  std::uint64_t max_queue_depth;
  std::uint64_t history;
  std::uint64_t type_id;
  std::uint64_t stride;  // pool bytes per sample, header included
};
static_assert(sizeof(TopicConfigWords) == 64);

// `delivering`/`delivering_sequence`: the delivery journal. A publish
// stores index + 1 and the sequence number of the sample it is delivering
// before it sets the receivers' bits, and 0 once every entry is pushed; a
// publisher that died in between leaves them, and the reclamation pass then
// clears the bit of each receiver whose queue did not get its entry
// (reclaim_locked). Only the slot's holder writes them, under the topic lock.
struct alignas(64) TopicPublisherSlot {
  std::atomic<std::uint64_t> identity;
  std::atomic<std::uint32_t> generation;  // of the attach that holds (or held) it
  std::atomic<std::uint32_t> delivering;  // sample index + 1 being delivered, 0 none
  std::atomic<std::uint64_t> delivering_sequence;
  std::uint8_t reserved[40];
};
static_assert(sizeof(TopicPublisherSlot) == 64);

// Three cache lines, so that the words of the ping-pong path do not share
// one: line 0 is written at attach (and `dropped` when full, `sleepers` when
// the subscriber sleeps), line 1 (head) by publishers only, line 2 (tail) by
// the subscriber's pop and by publishers dropping the oldest.
struct alignas(64) TopicSubscriberSlot {
  std::atomic<std::uint64_t> identity;
  std::atomic<std::uint32_t> generation;
  std::atomic<std::uint32_t> queue_depth;  // 1..max_queue_depth while attached
  std::atomic<std::uint32_t> policy;       // OverflowPolicy
  std::uint32_t reserved0;
  std::atomic<std::uint64_t> dropped;   // counted by publishers (under the lock)
  std::atomic<std::uint32_t> sleepers;  // data wake-up (peer_wait.hpp eventcount)
  std::atomic<std::uint32_t> signal;
  // Running counts (never wrapped): entry n is at queue[n % queue_depth].
  alignas(64) std::atomic<std::uint64_t> head;  // written by publishers, under the lock
  alignas(64) std::atomic<std::uint64_t> tail;  // CAS by the subscriber (pop) and publishers (drop)
};
static_assert(sizeof(TopicSubscriberSlot) == 192);

// One queue entry: everything a receiver needs about the sample, so that a
// receive reads this line (and the payload) and never the pool's header.
// `stamp` is the entry's running position + 1 (0: never written since the
// slot was claimed), stored last with release: a subscriber polls the entry
// at its tail for stamp == tail + 1 instead of the head word. Every field is
// validated by the reader (index < sample_count, size <= sample_size).
struct TopicQueueEntry {
  std::atomic<std::uint64_t> stamp;
  std::atomic<std::uint64_t> sequence;
  std::atomic<std::uint64_t> size;
  std::atomic<std::uint32_t> index;
  std::atomic<std::uint32_t> publisher_generation;
};
static_assert(sizeof(TopicQueueEntry) == 32);
inline constexpr std::size_t k_topic_queue_entry_size = sizeof(TopicQueueEntry);

struct alignas(64) TopicControl {
  TopicConfigWords config;  // written by the creator only
  // The topic lock: 0, or mutex_owner_word() of the holder. Taken over from a
  // dead holder, after which the taker runs the full reclamation pass.
  alignas(64) std::atomic<std::uint64_t> lock_owner;
  std::atomic<std::uint32_t> lock_sleepers;
  std::atomic<std::uint32_t> lock_signal;
  alignas(64) std::atomic<std::uint64_t> sequence;  // the last sequence number given
  std::atomic<std::uint64_t> history_count;         // samples ever put in the history ring
  std::atomic<std::uint32_t> publisher_attaches;    // generation counters (0 = none yet)
  std::atomic<std::uint32_t> subscriber_attaches;
  std::atomic<std::uint32_t> loan_hint;  // where the next loan's scan starts
  // A line of its own: read (after a fence) by every drop that frees a
  // sample, written only when a publisher sleeps.
  alignas(64) std::atomic<std::uint32_t> space_sleepers;
  std::atomic<std::uint32_t> space_signal;
  TopicPublisherSlot publishers[k_max_topic_publishers];
  TopicSubscriberSlot subscribers[k_max_topic_subscribers];
};

struct TopicPoolPreamble {
  std::uint64_t magic;  // k_topic_pool_magic
  std::uint64_t sample_size;
  std::uint64_t sample_count;
  std::uint64_t stride;
  std::uint8_t reserved[32];
};
static_assert(sizeof(TopicPoolPreamble) == k_topic_pool_data_offset);

struct TopicSampleHeader {
  std::uint64_t sequence;
  std::uint64_t size;  // payload bytes, <= sample_size
  std::uint32_t publisher_generation;
  std::uint32_t publisher_slot;
  std::uint8_t reserved[40];
};
static_assert(sizeof(TopicSampleHeader) == k_topic_sample_header_size);

// Where each part of the control state is, from the start of TopicControl.
struct TopicOffsets {
  std::uint64_t queues;
  std::uint64_t history;
  std::uint64_t holders;
  std::uint64_t end;  // bytes from TopicControl to the end of the holders
};

constexpr std::uint64_t topic_round64(std::uint64_t n) noexcept {
  return (n + 63) & ~std::uint64_t{63};
}

// The pool bytes per sample for `sample_size` payload bytes.
constexpr std::uint64_t topic_stride(std::uint64_t sample_size) noexcept {
  return topic_round64(k_topic_sample_header_size + sample_size);
}

// For a config whose fields are within their limits (validate first).
constexpr TopicOffsets topic_offsets(const TopicConfigWords& c) noexcept {
  TopicOffsets o{};
  o.queues = sizeof(TopicControl);
  o.history =
      o.queues + topic_round64(c.max_subscribers * c.max_queue_depth * k_topic_queue_entry_size);
  o.holders = o.history + topic_round64(c.history * 4);
  o.end = o.holders + c.sample_count * 8;
  return o;
}

// The control segment's state bytes (after the sync preamble).
constexpr std::uint64_t topic_state_size(const TopicConfigWords& c) noexcept {
  return k_topic_state_offset + topic_offsets(c).end;
}

// The pool segment's data bytes.
constexpr std::uint64_t topic_pool_size(const TopicConfigWords& c) noexcept {
  return k_topic_pool_data_offset + c.sample_count * c.stride;
}

// The pool's segment name for topic `name`.
inline constexpr const char* k_topic_pool_suffix = ".p";

}  // namespace detail
SHMKIT_END_NAMESPACE
