#include "messaging/topic_core.hpp"

#include "core/process_identity.hpp"
#include "segment/segment_header.hpp"

#include <algorithm>
#include <cstring>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// The most sleepers one wake-up wakes: on the portable path each is a
// semaphore post, and a garbage sleepers count must not mean thousands.
constexpr std::uint32_t k_max_woken = 64;

// Wakes everyone sleeping on `words` (as many as announced themselves).
void wake_everyone(const SleepWords& words) noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const std::uint32_t sleepers = words.sleepers.load(std::memory_order_relaxed);
  if (sleepers == 0) return;
  words.signal.fetch_add(1, std::memory_order_release);
  words.waiter.wake(words.signal, std::min(sleepers, k_max_woken));
}

// The same, right after a seq_cst read-modify-write that published the
// change: the RMW and a seq_cst load of the sleepers count order like the
// fence would (the sleeper announces with a seq_cst RMW and a fence), and on
// x86 the RMW is the barrier already, so none is paid for twice.
void wake_everyone_after_rmw(const SleepWords& words) noexcept {
  const std::uint32_t sleepers = words.sleepers.load(std::memory_order_seq_cst);
  if (sleepers == 0) return;
  words.signal.fetch_add(1, std::memory_order_release);
  words.waiter.wake(words.signal, std::min(sleepers, k_max_woken));
}

void wake_space(TopicSegment& t) noexcept {
  // Every waiting publisher re-checks: one free sample may be all they need,
  // and whoever does not get it sleeps again.
  wake_everyone(t.space_words());
}

bool frees(std::uint64_t before, std::uint64_t cleared) noexcept {
  return before != 0 && (before & ~cleared) == 0;
}

}  // namespace

bool slot_alive(std::uint64_t word) noexcept {
  return slot_occupied(word) && is_alive(word >> 32, word, k_slot_start_time_mask);
}

bool read_queue(const TopicSegment& t, std::size_t slot, QueueView& view, Failure& failure) {
  const TopicSubscriberSlot& s = t.control->subscribers[slot];
  const std::uint32_t depth = s.queue_depth.load(std::memory_order_relaxed);
  const std::uint32_t policy = s.policy.load(std::memory_order_relaxed);
  const std::uint64_t tail = s.tail.load(std::memory_order_acquire);
  const std::uint64_t head = s.head.load(std::memory_order_acquire);
  if (depth < 1 || depth > t.config.max_queue_depth || policy > 1 || head < tail ||
      head - tail > depth) {
    t.corrupted(failure, "subscriber slot " + std::to_string(slot) + " has a queue of depth " +
                             std::to_string(depth) + " with head " + std::to_string(head) +
                             " and tail " + std::to_string(tail));
    return false;
  }
  view.head = head;
  view.tail = tail;
  view.depth = depth;
  view.block = policy == static_cast<std::uint32_t>(OverflowPolicy::block_publisher);
  return true;
}

void wake_space_sleepers(TopicSegment& t) noexcept {
  wake_space(t);
}

void wake_space_sleepers_after_rmw(TopicSegment& t) noexcept {
  wake_everyone_after_rmw(t.space_words());
}

std::size_t clear_holder_bits(TopicSegment& t, std::uint64_t bits) noexcept {
  std::size_t freed = 0;
  for (std::size_t k = 0; k < t.config.sample_count; ++k) {
    if ((t.holders[k].load(std::memory_order_relaxed) & bits) == 0) continue;
    const std::uint64_t before = t.holders[k].fetch_and(~bits, std::memory_order_acq_rel);
    if (frees(before, bits)) ++freed;
  }
  if (freed != 0) wake_space(t);
  return freed;
}

void drop_reference(TopicSegment& t, std::uint32_t index, std::uint64_t bit) noexcept {
  if (index >= t.config.sample_count) return;
  const std::uint64_t before = t.holders[index].fetch_and(~bit, std::memory_order_seq_cst);
  if (frees(before, bit)) wake_space_sleepers_after_rmw(t);
}

void wake_all_subscribers(TopicSegment& t) noexcept {
  for (std::size_t i = 0; i < t.config.max_subscribers; ++i) wake_everyone(t.data_words(i));
}

namespace {

// Empties subscriber slot `i`'s queue and clears its bit everywhere (the
// identity word is the caller's to store, last).
void scrub_subscriber(TopicSegment& t, std::size_t i) noexcept {
  TopicSubscriberSlot& s = t.control->subscribers[i];
  s.tail.store(s.head.load(std::memory_order_relaxed), std::memory_order_release);
  clear_holder_bits(t, subscriber_bit(i));
}

// Clears the history bit of every sample that no live entry of the history
// ring names: a publisher that died between storing an entry and counting it
// (or garbage) would otherwise keep that sample forever.
void clear_orphan_history_bits(TopicSegment& t) noexcept {
  const std::size_t ring = t.config.history;
  const std::uint64_t count = t.control->history_count.load(std::memory_order_relaxed);
  std::uint32_t named[k_max_topic_queue_depth];
  std::size_t n = 0;
  // Entries [count - ring, count) are live; the one at count % ring too (a
  // publisher may have stored it and died before counting it).
  const std::uint64_t first = count >= ring ? count - ring : 0;
  for (std::uint64_t e = first; e <= count && n < ring; ++e) {
    const std::uint32_t index = t.history[e % ring].load(std::memory_order_relaxed);
    if (index < t.config.sample_count) named[n++] = index;
  }
  std::sort(named, named + n);
  for (std::size_t k = 0; k < t.config.sample_count; ++k) {
    if ((t.holders[k].load(std::memory_order_relaxed) & k_history_bit) == 0) continue;
    if (std::binary_search(named, named + n, static_cast<std::uint32_t>(k))) continue;
    drop_reference(t, static_cast<std::uint32_t>(k), k_history_bit);
  }
}

}  // namespace

namespace {

// A publisher stamps an entry before it moves the head: one that died
// between the two left an entry its subscriber may already have taken.
// Moving the head over it is what that publisher would have done next.
void finish_half_push(TopicSegment& t, std::size_t i) noexcept {
  TopicSubscriberSlot& s = t.control->subscribers[i];
  const std::uint32_t depth = s.queue_depth.load(std::memory_order_relaxed);
  if (depth < 1 || depth > t.config.max_queue_depth) return;  // garbage: read_queue says so
  const std::uint64_t head = s.head.load(std::memory_order_relaxed);
  if (t.queue_of(i)[head % depth].stamp.load(std::memory_order_acquire) == head + 1) {
    s.head.store(head + 1, std::memory_order_release);
  }
}

// Whether subscriber `i`'s queue got its entry for the delivery of sample
// `index` numbered `sequence`: nothing was pushed after that delivery (its
// publisher died in it, holding the lock, and the pass runs under the lock
// that was taken over from it, after finish_half_push()), so if the entry
// was pushed it is the last one, at head - 1, whether or not the subscriber
// has taken it since.
bool last_entry_names(const TopicSegment& t, std::size_t i, std::uint32_t index,
                      std::uint64_t sequence) noexcept {
  const TopicSubscriberSlot& s = t.control->subscribers[i];
  const std::uint32_t depth = s.queue_depth.load(std::memory_order_relaxed);
  if (depth < 1 || depth > t.config.max_queue_depth) return true;  // garbage: left alone
  const std::uint64_t head = s.head.load(std::memory_order_acquire);
  if (head == 0) return false;
  const TopicQueueEntry& e = t.queue_of(i)[(head - 1) % depth];
  return e.stamp.load(std::memory_order_acquire) == head &&
         e.index.load(std::memory_order_relaxed) == index &&
         e.sequence.load(std::memory_order_relaxed) == sequence;
}

// Publisher slot `j`'s delivery journal, left by a publisher that died
// between setting its receivers' bits and pushing their entries: each
// receiver whose queue did not get the entry has a bit on the sample that no
// entry and no Sample of it names (a receiver holds the sample only through
// an entry pushed to it: while on loan, only the publisher's bit was set),
// which would keep the sample until that subscriber closes. Cleared here,
// and the journal with it.
void settle_abandoned_delivery(TopicSegment& t, std::size_t j) noexcept {
  TopicPublisherSlot& p = t.control->publishers[j];
  const std::uint32_t delivering = p.delivering.load(std::memory_order_acquire);
  if (delivering == 0) return;
  const std::uint64_t sequence = p.delivering_sequence.load(std::memory_order_relaxed);
  const std::uint32_t index = delivering - 1;
  // A delivery abandoned under the lock was the last one numbered: the
  // first takeover settles it before anyone publishes again. Any other
  // journal is garbage, and clears nothing (it could drop a live bit).
  const bool last_numbered = sequence == t.control->sequence.load(std::memory_order_relaxed);
  if (last_numbered && index < t.config.sample_count) {
    const std::uint64_t word = t.holders[index].load(std::memory_order_acquire);
    for (std::size_t i = 0; i < t.config.max_subscribers; ++i) {
      if ((word & subscriber_bit(i)) == 0) continue;
      if (!last_entry_names(t, i, index, sequence)) drop_reference(t, index, subscriber_bit(i));
    }
  }
  p.delivering.store(0, std::memory_order_relaxed);
}

}  // namespace

void reclaim_locked(TopicSegment& t) noexcept {
  for (std::size_t i = 0; i < t.config.max_subscribers; ++i) {
    if (slot_occupied(t.control->subscribers[i].identity.load(std::memory_order_acquire))) {
      finish_half_push(t, i);
    }
  }
  // A live publisher's journal is empty whenever the lock is free (and we
  // hold it): only a gone one can have left one.
  for (std::size_t j = 0; j < t.config.max_publishers; ++j) {
    const std::uint64_t word = t.control->publishers[j].identity.load(std::memory_order_acquire);
    if (!slot_alive(word)) settle_abandoned_delivery(t, j);
  }
  std::uint64_t keep = t.config.history > 0 ? k_history_bit : 0;
  std::uint64_t gone_publishers = 0;
  std::uint64_t gone_subscribers = 0;
  bool live_publisher = false;
  for (std::size_t j = 0; j < t.config.max_publishers; ++j) {
    const std::uint64_t word = t.control->publishers[j].identity.load(std::memory_order_acquire);
    if (slot_occupied(word) && slot_alive(word)) {
      keep |= publisher_bit(j) | spare_bit(j);
      live_publisher = true;
    } else if (!slot_claimable(word)) {
      gone_publishers |= std::uint64_t{1} << j;  // dead, released or garbage
    }
  }
  for (std::size_t i = 0; i < t.config.max_subscribers; ++i) {
    TopicSubscriberSlot& s = t.control->subscribers[i];
    const std::uint64_t word = s.identity.load(std::memory_order_acquire);
    if (slot_occupied(word) && slot_alive(word)) {
      keep |= subscriber_bit(i);
    } else if (!slot_claimable(word)) {
      // Nobody pops this queue any more: empty it (bits below).
      s.tail.store(s.head.load(std::memory_order_relaxed), std::memory_order_release);
      gone_subscribers |= std::uint64_t{1} << i;
    }
  }
  // Every bit no occupied slot owns goes: the dead ones' and any garbage.
  clear_holder_bits(t, ~keep);
  if (t.config.history > 0) clear_orphan_history_bits(t);
  // Scrubbed: now the slots may be reused (identity last).
  for (std::size_t j = 0; j < t.config.max_publishers; ++j) {
    if ((gone_publishers >> j) & 1) {
      t.control->publishers[j].identity.store(k_topic_slot_closed, std::memory_order_release);
    }
  }
  for (std::size_t i = 0; i < t.config.max_subscribers; ++i) {
    if ((gone_subscribers >> i) & 1) {
      t.control->subscribers[i].identity.store(0, std::memory_order_release);
    }
  }
  // Only publishers sleep on the space words, and a dead one leaves its
  // announcement behind: with no live publisher, nobody sleeps there.
  if (!live_publisher) t.control->space_sleepers.store(0, std::memory_order_relaxed);
  if (gone_publishers != 0) wake_all_subscribers(t);
  // A publisher may wait for room in a dead subscriber's queue.
  if (gone_subscribers != 0) wake_space(t);
}

int claim_publisher_slot_locked(TopicSegment& t, std::uint64_t self, std::uint32_t& generation,
                                Failure& failure) {
  for (std::size_t j = 0; j < t.config.max_publishers; ++j) {
    TopicPublisherSlot& p = t.control->publishers[j];
    if (!slot_claimable(p.identity.load(std::memory_order_acquire))) continue;
    // A closed publisher left no loans (it cleared them), and a dead one's
    // were cleared by the reclamation pass before this.
    clear_holder_bits(t, publisher_bit(j) | spare_bit(j));
    p.delivering.store(0, std::memory_order_relaxed);  // settled above, or garbage
    generation = next_generation(t.control->publisher_attaches);
    p.generation.store(generation, std::memory_order_relaxed);
    p.identity.store(self, std::memory_order_release);
    return static_cast<int>(j);
  }
  failure.set(errc::role_taken,
              t.what + " already has " + std::to_string(t.config.max_publishers) +
                  " live publishers (its max_publishers); close one, or create the topic with "
                  "more");
  return -1;
}

int claim_subscriber_slot_locked(TopicSegment& t, std::uint64_t self, std::size_t depth,
                                 OverflowPolicy policy, std::size_t history,
                                 std::uint32_t& generation, Failure& failure) {
  for (std::size_t i = 0; i < t.config.max_subscribers; ++i) {
    TopicSubscriberSlot& s = t.control->subscribers[i];
    if (!slot_claimable(s.identity.load(std::memory_order_acquire))) continue;
    clear_holder_bits(t, subscriber_bit(i));
    s.queue_depth.store(static_cast<std::uint32_t>(depth), std::memory_order_relaxed);
    s.policy.store(static_cast<std::uint32_t>(policy), std::memory_order_relaxed);
    s.dropped.store(0, std::memory_order_relaxed);
    s.head.store(0, std::memory_order_relaxed);
    s.tail.store(0, std::memory_order_relaxed);
    // A dead occupant's sleepers never took themselves off: start at 0, and
    // move the signal so that no stale sleep matches it.
    s.sleepers.store(0, std::memory_order_relaxed);
    s.signal.fetch_add(1, std::memory_order_relaxed);
    // Entries a former occupant stamped must not look like this one's.
    TopicQueueEntry* queue = t.queue_of(i);
    for (std::size_t n = 0; n < depth; ++n) queue[n].stamp.store(0, std::memory_order_relaxed);
    // Late joiner: the last samples of the history ring, oldest first, as
    // their headers in the pool describe them (the receive validates them).
    const std::uint64_t kept = t.control->history_count.load(std::memory_order_relaxed);
    const std::size_t ring = t.config.history;
    std::uint64_t wanted = std::min<std::uint64_t>({history, ring, kept});
    std::uint64_t head = 0;
    for (std::uint64_t n = kept - wanted; n < kept; ++n) {
      const std::uint32_t index = t.history[n % ring].load(std::memory_order_relaxed);
      if (index >= t.config.sample_count) continue;  // garbage: not delivered
      if ((t.holders[index].load(std::memory_order_acquire) & k_history_bit) == 0) continue;
      t.holders[index].fetch_or(subscriber_bit(i), std::memory_order_acq_rel);
      TopicSampleHeader header;
      std::memcpy(&header, t.sample_header(index), sizeof header);
      write_queue_entry(t, i, depth, head, index, header.size, header.sequence,
                        header.publisher_generation);
      ++head;
    }
    s.head.store(head, std::memory_order_release);
    generation = next_generation(t.control->subscriber_attaches);
    s.generation.store(generation, std::memory_order_relaxed);
    s.identity.store(self, std::memory_order_release);
    return static_cast<int>(i);
  }
  failure.set(errc::role_taken,
              t.what + " already has " + std::to_string(t.config.max_subscribers) +
                  " live subscribers (its max_subscribers); close one, or create the topic with "
                  "more");
  return -1;
}

void release_publisher_slot(TopicSegment& t, std::size_t slot, std::uint64_t self,
                            bool locked) noexcept {
  TopicPublisherSlot& p = t.control->publishers[slot];
  // Only if it is still ours: a slot taken over (we were judged dead) is not.
  if (p.identity.load(std::memory_order_acquire) != self) return;
  clear_holder_bits(t, publisher_bit(slot) | spare_bit(slot));
  p.identity.store(locked ? k_topic_slot_closed : k_topic_slot_released, std::memory_order_release);
}

void release_subscriber_slot(TopicSegment& t, std::size_t slot, std::uint64_t self,
                             bool locked) noexcept {
  TopicSubscriberSlot& s = t.control->subscribers[slot];
  if (s.identity.load(std::memory_order_acquire) != self) return;
  scrub_subscriber(t, slot);
  s.identity.store(locked ? 0 : k_topic_slot_released, std::memory_order_release);
  // A publisher may be waiting for room in this queue.
  wake_space(t);
}

void write_queue_entry(TopicSegment& t, std::size_t slot, std::size_t depth, std::uint64_t position,
                       std::uint32_t index, std::uint64_t size, std::uint64_t sequence,
                       std::uint32_t publisher_generation) noexcept {
  TopicQueueEntry& e = t.queue_of(slot)[position % depth];
  e.sequence.store(sequence, std::memory_order_relaxed);
  e.size.store(size, std::memory_order_relaxed);
  e.index.store(index, std::memory_order_relaxed);
  e.publisher_generation.store(publisher_generation, std::memory_order_relaxed);
  e.stamp.store(position + 1, std::memory_order_release);
}

namespace {

// read_queue() with the tail from `tails` when it fits: the shared tail is
// read (and remembered) only when the copy is missing, from another attach,
// does not fit the head, or says the queue is full.
bool read_queue_cached(const TopicSegment& t, TailCache& tails, std::size_t slot, QueueView& view) {
  const TopicSubscriberSlot& s = t.control->subscribers[slot];
  const std::uint64_t bit = std::uint64_t{1} << slot;
  const std::uint32_t generation = s.generation.load(std::memory_order_relaxed);
  if ((tails.known & bit) != 0 && tails.generation[slot] == generation) {
    const std::uint32_t depth = s.queue_depth.load(std::memory_order_relaxed);
    const std::uint32_t policy = s.policy.load(std::memory_order_relaxed);
    const std::uint64_t head = s.head.load(std::memory_order_acquire);
    const std::uint64_t tail = tails.tail[slot];
    if (depth >= 1 && depth <= t.config.max_queue_depth && policy <= 1 && head >= tail &&
        head - tail < depth) {
      view.head = head;
      view.tail = tail;
      view.depth = depth;
      view.block = policy == static_cast<std::uint32_t>(OverflowPolicy::block_publisher);
      return true;
    }
  }
  Failure bad;
  if (!read_queue(t, slot, view, bad)) {
    tails.known &= ~bit;
    return false;
  }
  tails.tail[slot] = view.tail;
  tails.generation[slot] = generation;
  tails.known |= bit;
  return true;
}

}  // namespace

DeliverResult deliver_locked(TopicSegment& t, TailCache& tails, std::size_t slot,
                             std::uint32_t generation, std::uint32_t index, std::size_t size,
                             std::size_t& blocked_slot) noexcept {
  TopicControl& c = *t.control;
  std::uint64_t receivers = 0;
  // Room for every block_publisher subscriber first: a publish either
  // reaches everyone or no one.
  for (std::size_t i = 0; i < t.config.max_subscribers; ++i) {
    TopicSubscriberSlot& s = c.subscribers[i];
    const std::uint64_t word = s.identity.load(std::memory_order_acquire);
    if (!slot_occupied(word)) continue;
    QueueView view;
    if (!read_queue_cached(t, tails, i, view)) continue;  // garbage: skipped (the contract)
    if (view.block && view.size() >= view.depth) {
      if (slot_alive(word)) {
        blocked_slot = i;
        return DeliverResult::blocked;
      }
      // Dead and full: reclaimed now, it never blocks anyone.
      scrub_subscriber(t, i);
      s.identity.store(0, std::memory_order_release);
      wake_space(t);
      continue;
    }
    receivers |= subscriber_bit(i);
  }
  const std::uint64_t sequence = c.sequence.load(std::memory_order_relaxed) + 1;
  c.sequence.store(sequence, std::memory_order_relaxed);
  if (t.config.history > 0) {
    // The pool's header: for late joiners given this sample from the
    // history, its only readers (receives read the queue entry), so a topic
    // without a history does not write it: one line less to take from the
    // subscribers' cores, which may hold it beside the payload.
    TopicSampleHeader header{};
    header.sequence = sequence;
    header.size = size;
    header.publisher_generation = generation;
    header.publisher_slot = static_cast<std::uint32_t>(slot);
    std::memcpy(t.sample_header(index), &header, sizeof header);
    // The entry first, then its bit: a publisher dying between the two
    // leaves an entry whose sample is not kept (skipped by late joiners),
    // never a kept sample no entry names (and reclaim_locked clears such a
    // bit anyway).
    const std::size_t ring = t.config.history;
    const std::uint64_t count = c.history_count.load(std::memory_order_relaxed);
    if (count >= ring) {
      const std::uint32_t evicted = t.history[count % ring].load(std::memory_order_relaxed);
      drop_reference(t, evicted, k_history_bit);
    }
    t.history[count % ring].store(index, std::memory_order_relaxed);
    t.holders[index].fetch_or(k_history_bit, std::memory_order_acq_rel);
    c.history_count.store(count + 1, std::memory_order_relaxed);
  }
  // Every reference the sample will have is taken before the publisher's
  // is dropped and before any subscriber can see an entry: the holders word
  // is then final (save for the subscribers' drops) while the entries go
  // out, so a subscriber that takes its entry at once finds its line settled
  // and does not race the publisher for it.
  // One plain store for both, no read-modify-write: while the sample is on
  // loan to us and we hold the lock, nothing else sets a bit in its word
  // (loans only claim a 0 word, subscribers drop only what they were given,
  // reclamation runs under the lock); a slot released without the lock
  // clears bits we never set, and anything we set for it is cleared by the
  // next reclamation pass, which frees such slots only after clearing their
  // bits.
  // The journal first (released by the holders store below): a publisher
  // dying from here until it is cleared leaves bits the reclamation pass
  // must be able to tell from references a receiver really has.
  TopicPublisherSlot& journal = c.publishers[slot];
  journal.delivering_sequence.store(sequence, std::memory_order_relaxed);
  journal.delivering.store(index + 1, std::memory_order_relaxed);
  const std::uint64_t mine = publisher_bit(slot);
  const std::uint64_t before = t.holders[index].load(std::memory_order_relaxed);
  const std::uint64_t after = (before | receivers) & ~mine;
  t.holders[index].store(after, std::memory_order_release);
  if (after == 0 && before != 0) wake_space(t);
  for (std::size_t i = 0; i < t.config.max_subscribers; ++i) {
    if ((receivers & subscriber_bit(i)) == 0) continue;
    TopicSubscriberSlot& s = c.subscribers[i];
    TopicQueueEntry* queue = t.queue_of(i);
    bool pushed = false;
    for (int attempt = 0; attempt < 64; ++attempt) {
      QueueView view;
      if (!read_queue_cached(t, tails, i, view)) break;
      if (view.size() < view.depth) {
        // Entry first (stamped), then the head: the subscriber polls the
        // stamp, and a publisher dying between the two leaves a push that
        // the subscriber or the next reclamation pass finishes.
        write_queue_entry(t, i, view.depth, view.head, index, size, sequence, generation);
        s.head.store(view.head + 1, std::memory_order_release);
        pushed = true;
        break;
      }
      // Full (drop_oldest; a block subscriber had room above and can only
      // have made more): drop the oldest, unless the subscriber pops it first.
      const std::uint32_t oldest =
          queue[view.tail % view.depth].index.load(std::memory_order_relaxed);
      std::uint64_t expected = view.tail;
      if (s.tail.compare_exchange_strong(expected, view.tail + 1, std::memory_order_acq_rel)) {
        drop_reference(t, oldest, subscriber_bit(i));
        s.dropped.fetch_add(1, std::memory_order_relaxed);
        tails.tail[i] = view.tail + 1;
      } else {
        tails.known &= ~(std::uint64_t{1} << i);  // read it again
      }
    }
    if (!pushed) {
      // Garbage in its words (or a tail that kept moving, which only a
      // writer of garbage makes): it does not get this sample.
      drop_reference(t, index, subscriber_bit(i));
      continue;
    }
    wake_everyone(t.data_words(i));
  }
  journal.delivering.store(0, std::memory_order_release);
  return DeliverResult::delivered;
}

std::size_t live_publishers(const TopicSegment& t) noexcept {
  std::size_t n = 0;
  for (std::size_t j = 0; j < t.config.max_publishers; ++j) {
    n += slot_alive(t.control->publishers[j].identity.load(std::memory_order_acquire)) ? 1 : 0;
  }
  return n;
}

std::size_t live_subscribers(const TopicSegment& t) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < t.config.max_subscribers; ++i) {
    n += slot_alive(t.control->subscribers[i].identity.load(std::memory_order_acquire)) ? 1 : 0;
  }
  return n;
}

std::size_t free_sample_count(const TopicSegment& t) noexcept {
  std::size_t n = 0;
  for (std::size_t k = 0; k < t.config.sample_count; ++k) {
    const std::uint64_t word = t.holders[k].load(std::memory_order_acquire);
    n += word == 0 || is_spare_word(word, t.config.max_publishers) ? 1 : 0;
  }
  return n;
}

PublishersPresence::PublishersPresence(const TopicSegment& t) : t_(&t) {
  known_attaches_ = t.control->publisher_attaches.load(std::memory_order_acquire);
  was_here_ = present();
}

bool PublishersPresence::present() {
  const std::uint32_t attaches = t_->control->publisher_attaches.load(std::memory_order_acquire);
  bool any = false;
  for (std::size_t j = 0; j < t_->config.max_publishers; ++j) {
    const std::uint64_t word = t_->control->publishers[j].identity.load(std::memory_order_acquire);
    if (slot_occupied(word) && !watches_[j].gone(word)) any = true;
  }
  if (any || attaches != known_attaches_) {
    known_attaches_ = attaches;
    was_here_ = true;
  }
  return any;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
