#include <shmkit/subscriber.hpp>

#include "core/error_wrappers.hpp"
#include "core/process_identity.hpp"
#include "messaging/ring_endpoint.hpp"
#include "messaging/subscriber_access.hpp"
#include "messaging/topic_endpoint.hpp"
#include "segment/segment_header.hpp"

#include <cstring>
#include <memory>
#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

SubscriberImpl::~SubscriberImpl() {
  if (!attached || !in_owner_process()) return;
  TopicSegment& t = *topic;
  // Without the lock (a holder stuck for k_topic_lock_grace) the slot is
  // only marked released: the next reclamation pass under the lock scrubs it
  // (a publish may still be writing into its queue) and frees it for reuse.
  TopicLockGuard guard(lock, topic_lock_grace_deadline());
  if (guard.owner_died) reclaim_locked(t);
  release_subscriber_slot(t, slot, self, guard.locked);
}

struct SampleAccess {
  static Sample make(SubscriberImpl* impl, std::uint32_t index, std::size_t size,
                     std::uint64_t sequence, std::uint32_t generation) {
    Sample sample;
    retain(impl);
    sample.owner_ = impl;
    sample.index_ = index;
    sample.data_ = impl->topic->sample_header(index) + k_topic_sample_header_size;
    sample.size_ = size;
    sample.sequence_ = sequence;
    sample.generation_ = generation;
    return sample;
  }
};

namespace {

// Whether the entry at `tail` is stamped for it: what a receive waits for.
bool entry_ready(const TopicQueueEntry* queue, std::size_t depth, std::uint64_t tail) noexcept {
  return queue[tail % depth].stamp.load(std::memory_order_acquire) == tail + 1;
}

// The slow part of pop(): the entry at `tail` is not stamped for it. False
// with errc::corrupted when the queue's words cannot be trusted; else true,
// and `retry` when the entry may be ready after all (look again).
bool check_not_ready(SubscriberImpl& impl, std::uint64_t tail, bool& retry, Failure& f) {
  TopicSegment& t = *impl.topic;
  TopicSubscriberSlot& s = t.control->subscribers[impl.slot];
  const TopicQueueEntry* queue = t.queue_of(impl.slot);
  std::uint64_t head = s.head.load(std::memory_order_acquire);
  retry = false;
  // A publisher stamped the entry at the head and died before moving the
  // head (or is about to move it): we took that entry, and the head is what
  // it would have written.
  if (head + 1 == tail && entry_ready(queue, impl.depth, head)) {
    s.head.compare_exchange_strong(head, tail, std::memory_order_acq_rel);
    return true;
  }
  // The depth word too: publishers skip a queue whose words they cannot
  // trust (deliver_locked), and this is where that is reported. Both words
  // may have moved since we read them (a publisher dropping the oldest moves
  // the tail and the head; one finishing the push we took from moves the
  // head): only words that stood still while we looked are garbage.
  if (head < tail || head - tail > impl.depth ||
      s.queue_depth.load(std::memory_order_relaxed) != impl.depth) {
    if (s.tail.load(std::memory_order_acquire) != tail ||
        s.head.load(std::memory_order_acquire) != head) {
      retry = true;
      return true;
    }
    t.corrupted(f, "this subscriber's queue (depth " + std::to_string(impl.depth) + ") has head " +
                       std::to_string(head) + " and tail " + std::to_string(tail));
    return false;
  }
  if (head == tail) return true;  // empty
  // The head moves after the entry is stamped (release, read with acquire
  // above): the stamp must be there now, unless the tail moved (a publisher
  // dropped the oldest).
  if (entry_ready(queue, impl.depth, tail) || s.tail.load(std::memory_order_acquire) != tail) {
    retry = true;
    return true;
  }
  t.corrupted(f, "this subscriber's queue entry " + std::to_string(tail) + " (head " +
                     std::to_string(head) + ") is not the one its publisher stamped");
  return false;
}

// The next queued sample, or an empty one when the queue is empty. The fast
// path reads the entry at the tail (one line, stamped by the publisher) and
// moves the tail (a line only this subscriber writes while its queue has
// room); neither the head nor the pool's header.
Sample pop(SubscriberImpl& impl, Failure& f) {
  TopicSegment& t = *impl.topic;
  TopicSubscriberSlot& s = t.control->subscribers[impl.slot];
  const TopicQueueEntry* queue = t.queue_of(impl.slot);
  const std::uint64_t bit = subscriber_bit(impl.slot);
  // A lost race for the tail (a publisher dropping the oldest) is retried;
  // a tail that never stops moving (only a writer of garbage does that) ends
  // as "nothing now", so that the caller's deadline still holds.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::uint64_t tail = s.tail.load(std::memory_order_acquire);
    const TopicQueueEntry& e = queue[tail % impl.depth];
    if (e.stamp.load(std::memory_order_acquire) != tail + 1) {
      bool retry = false;
      if (!check_not_ready(impl, tail, retry, f)) return {};
      if (retry) continue;
      return {};
    }
    const std::uint32_t index = e.index.load(std::memory_order_relaxed);
    const std::uint64_t size = e.size.load(std::memory_order_relaxed);
    const std::uint64_t sequence = e.sequence.load(std::memory_order_relaxed);
    const std::uint32_t generation = e.publisher_generation.load(std::memory_order_relaxed);
    if (index < t.config.sample_count) {
      // Both in flight at once, and while the tail moves: the payload's
      // first line (the caller reads it next) and the holders line (read
      // below, written by the drop).
      prefetch_for_read(t.sample_header(index) + k_topic_sample_header_size);
      prefetch_for_write(&t.holders[index]);
    }
    // A publisher dropping the oldest for us may take it first: look again.
    if (!s.tail.compare_exchange_strong(tail, tail + 1, std::memory_order_seq_cst)) continue;
    if (index >= t.config.sample_count ||
        (t.holders[index].load(std::memory_order_acquire) & bit) == 0) {
      t.corrupted(f, "this subscriber's queue names sample " + std::to_string(index) +
                         ", which it does not hold (the pool has " +
                         std::to_string(t.config.sample_count) + ")");
      return {};
    }
    // Room in our queue for a publisher that waits for it (the tail's
    // seq_cst CAS above is what the wake-up orders after).
    if (impl.block) wake_space_sleepers_after_rmw(t);
    if (size > t.config.sample_size) {
      drop_reference(t, index, bit);
      t.corrupted(f, "sample " + std::to_string(index) + " claims " + std::to_string(size) +
                         " bytes, more than its " + std::to_string(t.config.sample_size));
      return {};
    }
    return SampleAccess::make(&impl, index, static_cast<std::size_t>(size), sequence, generation);
  }
  return {};
}

// What a waiting receive polls: the entry at the tail, and (only while that
// is not stamped) whether the head moved, so that words that disagree are
// reported by pop() instead of waited on.
// `at` and `entry` remember where the last look found the tail, so that a
// spinning receive does not divide by the depth on every turn.
// The head is looked at on the first look and every 16th after it only: a
// spinning receive that read it on every turn would hold the head's line
// shared, and the publisher's store of the head (right after the entry's
// stamp, which is all a healthy queue needs) would wait to take it back.
// Only garbage moves the head without stamping the entry, and that is still
// reported, a few turns later (or, for a sleeping receive, at one of the
// next wake-ups or at its deadline; garbage that never moves the head looks
// like an empty queue anyway).
bool receive_ready(const TopicSegment& t, std::size_t slot, std::size_t depth, std::uint64_t& at,
                   const TopicQueueEntry*& entry, std::uint32_t& looks) noexcept {
  const TopicSubscriberSlot& s = t.control->subscribers[slot];
  const std::uint64_t tail = s.tail.load(std::memory_order_acquire);
  if (entry == nullptr || tail != at) {
    at = tail;
    entry = &t.queue_of(slot)[tail % depth];
  }
  if (entry->stamp.load(std::memory_order_acquire) == tail + 1) return true;
  return (looks++ & 15) == 0 && s.head.load(std::memory_order_acquire) != tail;
}

bool queue_ready(const TopicSegment& t, std::size_t slot) noexcept {
  const TopicSubscriberSlot& s = t.control->subscribers[slot];
  return s.head.load(std::memory_order_acquire) != s.tail.load(std::memory_order_acquire);
}

}  // namespace

WaitHook wait_hook(const Subscriber& subscriber) {
  WaitHook hook;
  SubscriberImpl* impl = SubscriberAccess::impl(subscriber);
  if (impl == nullptr) {
    hook.ready = [] { return true; };
    return hook;
  }
  std::shared_ptr<TopicSegment> topic = impl->topic;
  const std::size_t slot = impl->slot;
  // A presence of its own (the watcher thread may call ready() while the
  // subscriber's thread receives), starting from what the subscriber knows.
  auto presence = std::make_shared<PublishersPresence>(impl->publishers);
  hook.ready = [topic, slot, presence] { return queue_ready(*topic, slot) || presence->gone(); };
  TopicSubscriberSlot& s = topic->control->subscribers[slot];
  hook.sleepers = &s.sleepers;
  hook.signal = &s.signal;
  hook.waiter = topic->waiters[k_topic_first_data_waiter + slot].get();
  return hook;
}

}  // namespace detail

using detail::Failure;
using detail::SubscriberImpl;

// ---- Sample -----------------------------------------------------------------

Sample::Sample(Sample&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      sequence_(std::exchange(other.sequence_, 0)),
      index_(std::exchange(other.index_, 0)),
      generation_(std::exchange(other.generation_, 0)) {}

Sample& Sample::operator=(Sample&& other) noexcept {
  if (this != &other) {
    reset();
    owner_ = std::exchange(other.owner_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    sequence_ = std::exchange(other.sequence_, 0);
    index_ = std::exchange(other.index_, 0);
    generation_ = std::exchange(other.generation_, 0);
  }
  return *this;
}

Sample::~Sample() {
  reset();
}

void Sample::reset() noexcept {
  SubscriberImpl* owner = std::exchange(owner_, nullptr);
  data_ = nullptr;
  size_ = 0;
  sequence_ = 0;
  generation_ = 0;
  if (owner == nullptr) return;
  // No fork check here (it would cost a system call per sample): a forked
  // child must not destroy what it inherited (sample.hpp, loan.hpp).
  detail::drop_reference(*owner->topic, index_, detail::subscriber_bit(owner->slot));
  detail::release(owner);
}

// ---- Subscriber ---------------------------------------------------------------

Subscriber Subscriber::open_at(std::string_view topic_name, const SubscriberOptions& options,
                               const detail::TopicType* type, std::error_code* ec) {
  return Subscriber(detail::run_reporting(ec, [&](Failure& f) -> SubscriberImpl* {
    auto topic =
        detail::open_topic_segment(topic_name, nullptr, detail::OpenMode::open, options, false, f);
    if (f) return nullptr;
    const TopicConfig& config = topic->config;
    if (type != nullptr && (config.type_id != type->type_id || config.sample_size < type->size)) {
      f.set(errc::type_mismatch,
            topic->what + " holds another type (type_id " + std::to_string(config.type_id) +
                ", samples of " + std::to_string(config.sample_size) +
                " bytes) than this handle's; open it with the type (and schema_id) it was "
                "created with");
      return nullptr;
    }
    const std::size_t depth =
        options.queue_depth == 0 ? config.max_queue_depth : options.queue_depth;
    if (depth > config.max_queue_depth) {
      f.set(errc::invalid_size, topic->what + ": a queue_depth of " + std::to_string(depth) +
                                    " is more than its max_queue_depth of " +
                                    std::to_string(config.max_queue_depth));
      return nullptr;
    }
    if (options.history > depth) {
      f.set(errc::invalid_size, topic->what + ": a history of " + std::to_string(options.history) +
                                    " samples does not fit a queue of " + std::to_string(depth));
      return nullptr;
    }
    if (options.overflow != OverflowPolicy::drop_oldest &&
        options.overflow != OverflowPolicy::block_publisher) {
      f.set(errc::invalid_argument, topic->what + ": unknown OverflowPolicy");
      return nullptr;
    }
    auto impl = std::unique_ptr<SubscriberImpl>(new SubscriberImpl);
    impl->topic = topic;
    impl->wait = options.wait;
    impl->depth = depth;
    impl->block = options.overflow == OverflowPolicy::block_publisher;
    impl->self = detail::pack_slot(detail::current_process());
    impl->lock = detail::TopicLock(*topic->control, *topic->waiters[detail::k_topic_lock_waiter],
                                   impl->self, detail::topic_local_lock(topic->name, impl->self));
    {
      detail::TopicLockGuard guard(impl->lock, deadline_after(options.open_timeout));
      if (!guard.locked) {
        f.set(errc::not_ready, topic->what +
                                   ": its lock stayed held by a live process; try again, or "
                                   "find the process that holds it");
        return nullptr;
      }
      detail::reclaim_locked(*topic);
      const int slot = detail::claim_subscriber_slot_locked(
          *topic, impl->self, depth, options.overflow, options.history, impl->generation, f);
      if (slot < 0) return nullptr;
      impl->slot = static_cast<std::size_t>(slot);
      impl->attached = true;
    }
    impl->publishers = detail::PublishersPresence(*topic);
    return impl.release();
  }));
}

Subscriber Subscriber::open(std::string_view topic_name, const SubscriberOptions& options) {
  return open_at(topic_name, options, nullptr, nullptr);
}
Subscriber Subscriber::open(std::string_view topic_name, const SubscriberOptions& options,
                            std::error_code& ec) noexcept {
  return open_at(topic_name, options, nullptr, &ec);
}

Subscriber::Subscriber(Subscriber&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
Subscriber& Subscriber::operator=(Subscriber&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::exchange(other.impl_, nullptr);
  }
  return *this;
}
Subscriber::~Subscriber() {
  close();
}
void Subscriber::close() noexcept {
  detail::release(std::exchange(impl_, nullptr));
}

Sample Subscriber::receive_at(Deadline deadline, std::error_code* ec) {
  return detail::run_reporting(ec, [&](Failure& f) -> Sample {
    SubscriberImpl* impl = detail::checked_impl(impl_, "Subscriber", f);
    if (impl == nullptr) return Sample();
    detail::TopicSegment& t = *impl->topic;
    for (bool again = false;; again = true) {
      Sample sample = detail::pop(*impl, f);
      if (sample || f) return sample;
      // Ready but taken (a publisher dropped it first): look at the deadline
      // before waiting again.
      if (again && detail::TopicClock::now() >= deadline) return Sample();
      std::uint64_t at = 0;
      const detail::TopicQueueEntry* entry = nullptr;
      std::uint32_t looks = 0;
      const detail::WaitResult waited = detail::wait_for_peer(
          impl->wait, deadline, t.data_words(impl->slot),
          [&] { return detail::receive_ready(t, impl->slot, impl->depth, at, entry, looks); },
          [&] { return impl->publishers.gone(); });
      if (waited == detail::WaitResult::timed_out) return Sample();
      if (waited == detail::WaitResult::peer_gone) {
        f.set(errc::peer_gone, t.what +
                                   ": every publisher has exited or closed and everything "
                                   "published was received; wait for a new publisher");
        return Sample();
      }
    }
  });
}

std::uint64_t Subscriber::dropped() const noexcept {
  return impl_ != nullptr ? impl_->topic->control->subscribers[impl_->slot].dropped.load(
                                std::memory_order_relaxed)
                          : 0;
}
std::size_t Subscriber::queue_depth() const noexcept {
  return impl_ != nullptr ? impl_->depth : 0;
}
const std::string& Subscriber::name() const noexcept {
  static const std::string empty;
  return impl_ != nullptr ? impl_->topic->name : empty;
}
std::size_t Subscriber::slot() const noexcept {
  return impl_ != nullptr ? impl_->slot : 0;
}
std::size_t Subscriber::max_sample_size() const noexcept {
  return impl_ != nullptr ? impl_->topic->config.sample_size : 0;
}

SHMKIT_END_NAMESPACE
