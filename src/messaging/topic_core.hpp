// What publishers, subscribers and Topic handles do to a topic's shared
// state: attach and detach slots, reclaim what dead processes held, deliver a
// published sample, pop a queued one. Every function named *_locked runs
// under the topic lock (topic_lock.hpp); the others need no lock.
//
// Reference counting (topic_layout.hpp): a sample is free iff its holders
// word is 0. A loan sets the publisher's bit (CAS from 0); publish sets one
// bit per receiving subscriber and the history bit, then clears the
// publisher's; a subscriber's drop clears its bit. Whoever turns the word to
// 0 wakes the publishers waiting for space. After a publish, the publisher
// claims its next loan's sample ahead (a spare, topic_layout.hpp): free to
// any loan that finds no free sample.
#pragma once

#include <shmkit/config.hpp>

#include "core/failure.hpp"
#include "messaging/ring_core.hpp"
#include "messaging/topic_segment.hpp"

#include <cstddef>
#include <cstdint>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// Asks for the cache line at `p` ahead of use (a hint: no fault, no effect
// on what any load or store sees). For writing: the line comes exclusive,
// so the store or read-modify-write that follows does not wait for another
// core to give it up.
// On x86 the builtin asks for PREFETCHW only when the build targets it
// (-mprfchw, not in the baseline x86-64 target); without, it emits a read
// prefetch, which leaves the line shared and the store still waiting. So the
// instruction is spelt out: every x86-64 CPU since 2014 (and AMD's since
// 2003) has it, and older ones treat its encoding as a NOP.
inline void prefetch_for_write(const void* p) noexcept {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 1, 3);
#else
  (void)p;
#endif
}
inline void prefetch_for_read(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 0, 3);
#else
  (void)p;
#endif
}

// A slot word held by a process (alive or not): neither free, closed nor
// released.
constexpr bool slot_occupied(std::uint64_t word) noexcept {
  return word > k_topic_slot_released;
}

// A slot word a newcomer may take: free or cleanly closed (a released one
// waits for the reclamation pass, a held one for its process to die).
constexpr bool slot_claimable(std::uint64_t word) noexcept {
  return word == 0 || word == k_topic_slot_closed;
}

// The queue of subscriber `slot` as read now, validated.
struct QueueView {
  std::uint64_t head = 0;
  std::uint64_t tail = 0;
  std::size_t depth = 0;
  bool block = false;
  std::size_t size() const noexcept { return static_cast<std::size_t>(head - tail); }
};

// False (with errc::corrupted in `failure`) when the slot's words do not
// describe a queue of this topic.
bool read_queue(const TopicSegment& t, std::size_t slot, QueueView& view, Failure& failure);

// What one publisher handle last saw of each subscriber queue's tail
// (process-local). A tail only grows while one attach holds the slot (the
// generation tells attaches apart), so a stale copy only underestimates the
// room: the shared tail, a line the subscriber writes on every receive, is
// read again only when the copy says the queue is full, or does not fit the
// head.
struct TailCache {
  std::uint64_t tail[k_max_topic_subscribers] = {};
  std::uint32_t generation[k_max_topic_subscribers] = {};
  std::uint64_t known = 0;  // bit i: tail[i] and generation[i] are set
};

// Clears `bits` in every sample's holders word; wakes space sleepers when a
// sample became free. Returns how many did.
std::size_t clear_holder_bits(TopicSegment& t, std::uint64_t bits) noexcept;

// Drops one reference: clears `bit` on sample `index`, waking space sleepers
// when the sample became free.
void drop_reference(TopicSegment& t, std::uint32_t index, std::uint64_t bit) noexcept;

// The full reclamation pass: every slot whose process is dead, and every
// released one, is scrubbed (its bits cleared in every sample, its queue
// reset) and then freed (identity stored last); bits that no occupied slot
// can own are cleared, and so is the history bit of every sample no entry
// of the history ring names (a publisher that died between the two). With
// no live publisher left, the space sleepers count (which dead publishers
// may have left raised) is reset. A push that a dead publisher left half
// done (its entry stamped, the head not yet moved) is finished.
void reclaim_locked(TopicSegment& t) noexcept;

// Liveness of the process in a slot word (false for free, closed, garbage).
bool slot_alive(std::uint64_t word) noexcept;

// Claims a free publisher slot for `self`; -1 with errc::role_taken when
// every slot is held by a live process.
int claim_publisher_slot_locked(TopicSegment& t, std::uint64_t self, std::uint32_t& generation,
                                Failure& failure);
// Claims a free subscriber slot, sets up its queue and pushes up to
// `history` of the last samples into it.
int claim_subscriber_slot_locked(TopicSegment& t, std::uint64_t self, std::size_t depth,
                                 OverflowPolicy policy, std::size_t history,
                                 std::uint32_t& generation, Failure& failure);

// Releases the slot if it is still `self`'s: its bits and queue are cleared
// first, its identity stored last. `locked`: the caller holds the topic lock,
// and the slot is closed (publisher) or freed (subscriber) for reuse; else
// (a destructor that did not get the lock) it is only marked
// k_topic_slot_released, for the next locked reclamation pass to scrub again
// and free: a publish that holds the lock may still be writing into it.
void release_publisher_slot(TopicSegment& t, std::size_t slot, std::uint64_t self,
                            bool locked) noexcept;
void release_subscriber_slot(TopicSegment& t, std::size_t slot, std::uint64_t self,
                             bool locked) noexcept;

// Wakes the publishers waiting for a free sample or for room. The
// _after_rmw form is for a caller whose change was a seq_cst
// read-modify-write (it orders like the fence the other form issues).
void wake_space_sleepers(TopicSegment& t) noexcept;
void wake_space_sleepers_after_rmw(TopicSegment& t) noexcept;

// Wakes every subscriber's data sleepers (a publisher came or went).
void wake_all_subscribers(TopicSegment& t) noexcept;

enum class DeliverResult { delivered, blocked };

// Publishes sample `index` (on loan to publisher `slot`) of `size` bytes:
// blocked (nothing done, `blocked_slot` set) when a live block_publisher
// subscriber's queue is full, else delivered to every attached subscriber,
// the history updated and the publisher's bit cleared. A block_publisher
// subscriber found full and dead is reclaimed here and never blocks.
//
// Corruption contract: a subscriber whose queue words are garbage is skipped
// (it gets nothing, no bit of it is left on the sample) and the publish goes
// on for everyone else: it is not the publisher's error (the publish
// happened, the loan is consumed); that subscriber's own receive reports
// errc::corrupted, since it validates the same words.
DeliverResult deliver_locked(TopicSegment& t, TailCache& tails, std::size_t slot,
                             std::uint32_t generation, std::uint32_t index, std::size_t size,
                             std::size_t& blocked_slot) noexcept;

// Stores entry `position` of subscriber `slot`'s queue (depth `depth`): the
// fields, then the stamp (release). The caller then moves the head.
void write_queue_entry(TopicSegment& t, std::size_t slot, std::size_t depth, std::uint64_t position,
                       std::uint32_t index, std::uint64_t size, std::uint64_t sequence,
                       std::uint32_t publisher_generation) noexcept;

// Publishers attached now that are alive / subscribers likewise.
std::size_t live_publishers(const TopicSegment& t) noexcept;
std::size_t live_subscribers(const TopicSegment& t) noexcept;
std::size_t free_sample_count(const TopicSegment& t) noexcept;

// Whether the publishers a subscriber has seen have all gone: "gone" only
// for publishers that were attached while the subscriber was (or that
// attached after it), never before one came. Sticky until one attaches.
class PublishersPresence {
 public:
  PublishersPresence() = default;
  explicit PublishersPresence(const TopicSegment& t);
  bool present();
  bool gone() { return !present() && was_here_; }

 private:
  const TopicSegment* t_ = nullptr;
  std::uint32_t known_attaches_ = 0;
  bool was_here_ = false;
  PeerWatch watches_[k_max_topic_publishers];
};

}  // namespace detail
SHMKIT_END_NAMESPACE
