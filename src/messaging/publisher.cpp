#include <shmkit/publisher.hpp>

#include "core/error_wrappers.hpp"
#include "core/process_identity.hpp"
#include "messaging/ring_endpoint.hpp"
#include "messaging/topic_endpoint.hpp"
#include "segment/segment_header.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

bool TopicEndpoint::in_owner_process() const noexcept {
  return pack_slot(current_process()) == self;
}

PublisherImpl::~PublisherImpl() {
  if (!attached || !in_owner_process()) return;
  TopicSegment& t = *topic;
  {
    TopicLockGuard guard(lock, topic_lock_grace_deadline());
    // Without the lock (a holder stuck for k_topic_lock_grace) the slot is
    // only marked released: the next reclamation pass under the lock scrubs
    // it and frees it for reuse.
    if (guard.owner_died) reclaim_locked(t);
    release_publisher_slot(t, slot, self, guard.locked);
  }
  // Subscribers waiting for data learn that this publisher is gone.
  wake_all_subscribers(t);
}

namespace {

// Publishers reclaim what dead processes hold at most this often while
// publishing (a dead subscriber's queue keeps samples out of the pool), and
// look at the clock for it every 8th publish; a loan waiting for a free
// sample at most this often too. Nothing waits on it: a loan that finds the
// pool empty reclaims at once, and a publish finding a dead block_publisher
// subscriber's queue full reclaims that one inline (deliver_locked).
constexpr auto k_publish_reclaim_interval = k_peer_check_interval;

// Takes the lock until `deadline` (a passed one: a short try) and runs the
// reclamation pass.
void reclaim_now(PublisherImpl& impl, Deadline deadline) {
  TopicLockGuard guard(impl.lock, deadline);
  if (!guard.locked) return;
  reclaim_locked(*impl.topic);
  impl.last_reclaim = TopicClock::now();
}

// Where the scan for the next loan starts after sample k: two holders lines
// (16 words) further on, so that the next loan (the spare claimed right
// after publishing k) looks at a line other than the one the subscribers are
// about to write (dropping sample k), and not the one beside it either
// (which a core's adjacent-line prefetcher may fetch along with it).
constexpr std::size_t k_loan_hint_step = 16;
std::uint32_t next_loan_hint(std::size_t k, std::size_t count) noexcept {
  const std::size_t next = k + k_loan_hint_step;
  return static_cast<std::uint32_t>(next < count ? next : next % count);
}

// Claims a free sample, setting its word to `claimed`; -1 when none is free.
long claim_free(TopicSegment& t, std::uint64_t claimed) noexcept {
  const std::size_t count = t.config.sample_count;
  std::size_t k = t.control->loan_hint.load(std::memory_order_relaxed);
  if (k >= count) k %= count;
  for (std::size_t n = 0; n < count; ++n, ++k) {
    if (k == count) k = 0;
    std::uint64_t expected = 0;
    if (t.holders[k].load(std::memory_order_relaxed) == 0 &&
        t.holders[k].compare_exchange_strong(expected, claimed, std::memory_order_acq_rel)) {
      t.control->loan_hint.store(next_loan_hint(k, count), std::memory_order_relaxed);
      return static_cast<long>(k);
    }
  }
  return -1;
}

// Claims a sample for a loan of this publisher: its spare if it still has
// it, else a free one, else another publisher's spare (a spare never keeps
// a loan waiting); -1 when there is none.
long claim_sample(PublisherImpl& impl) noexcept {
  TopicSegment& t = *impl.topic;
  const std::uint64_t bit = publisher_bit(impl.slot);
  const std::uint32_t spare = std::exchange(impl.spare, k_no_spare);
  if (spare < t.config.sample_count) {
    std::uint64_t expected = spare_word(impl.slot);
    if (t.holders[spare].compare_exchange_strong(expected, bit, std::memory_order_acq_rel)) {
      return static_cast<long>(spare);
    }
    // Taken by a publisher that found the pool empty.
  }
  const long index = claim_free(t, bit);
  if (index >= 0) return index;
  for (std::size_t k = 0; k < t.config.sample_count; ++k) {
    std::uint64_t word = t.holders[k].load(std::memory_order_relaxed);
    if (!is_spare_word(word, t.config.max_publishers)) continue;
    if (t.holders[k].compare_exchange_strong(word, bit, std::memory_order_acq_rel)) {
      return static_cast<long>(k);
    }
  }
  return -1;
}

// After a publish, while the caller goes on to wait for a reply or the next
// thing to send: the next loan's sample is claimed now (a spare), so that
// the loan finds its word and payload in this core's cache instead of
// taking them from the subscribers' cores (they dropped and read it last).
void claim_spare(PublisherImpl& impl) noexcept {
  if (impl.spare != k_no_spare) return;
  TopicSegment& t = *impl.topic;
  const long index = claim_free(t, spare_word(impl.slot));
  if (index < 0) return;
  impl.spare = static_cast<std::uint32_t>(index);
  prefetch_for_write(t.sample_header(static_cast<std::size_t>(index)) + k_topic_sample_header_size);
}

long take_sample(PublisherImpl& impl, Deadline deadline) {
  long index = claim_sample(impl);
  if (index >= 0) return index;
  // The pool is empty: what dead processes held may be all that is missing.
  reclaim_now(impl, deadline);
  index = claim_sample(impl);
  if (index >= 0 || TopicClock::now() >= deadline) return index;
  (void)wait_for_peer(
      impl.wait, deadline, impl.topic->space_words(),
      [&] {
        index = claim_sample(impl);
        return index >= 0;
      },
      [&] {
        // Consulted on every wake-up: reclaim once per interval only.
        const auto now = TopicClock::now();
        if (now - impl.last_reclaim >= k_publish_reclaim_interval) {
          reclaim_now(impl, std::min(deadline, now + k_peer_check_interval));
        }
        return false;
      });
  return index;
}

std::shared_ptr<TopicSegment> open_checked_topic(std::string_view name, const TopicConfig* config,
                                                 const ObjectOptions& options, bool writable,
                                                 const TopicType* type, Failure& f) {
  auto topic = open_topic_segment(name, config,
                                  config != nullptr ? OpenMode::open_or_create : OpenMode::open,
                                  options, writable, f);
  if (f) return nullptr;
  if (type != nullptr &&
      (topic->config.type_id != type->type_id || topic->config.sample_size < type->size)) {
    f.set(errc::type_mismatch,
          topic->what + " holds another type (type_id " + std::to_string(topic->config.type_id) +
              ", samples of " + std::to_string(topic->config.sample_size) +
              " bytes) than this handle's; open it with the type (and schema_id) it was created "
              "with");
    return nullptr;
  }
  return topic;
}

}  // namespace

struct LoanAccess {
  static Loan make(PublisherImpl* impl, std::uint32_t index, std::size_t size) {
    Loan loan;
    retain(impl);
    loan.owner_ = impl;
    loan.index_ = index;
    loan.data_ = impl->topic->sample_header(index) + k_topic_sample_header_size;
    loan.size_ = size;
    loan.capacity_ = impl->topic->config.sample_size;
    return loan;
  }
  // The loan was published: its sample is no longer ours to give back.
  static void consume(Loan& loan) noexcept {
    PublisherImpl* owner = std::exchange(loan.owner_, nullptr);
    loan.data_ = nullptr;
    loan.size_ = loan.capacity_ = 0;
    release(owner);
  }
  static PublisherImpl* owner(const Loan& loan) noexcept { return loan.owner_; }
  static std::uint32_t index(const Loan& loan) noexcept { return loan.index_; }
};

}  // namespace detail

using detail::Failure;
using detail::LoanAccess;
using detail::PublisherImpl;

// ---- Loan -------------------------------------------------------------------

Loan::Loan(Loan&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)),
      index_(std::exchange(other.index_, 0)) {}

Loan& Loan::operator=(Loan&& other) noexcept {
  if (this != &other) {
    reset();
    owner_ = std::exchange(other.owner_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    index_ = std::exchange(other.index_, 0);
  }
  return *this;
}

Loan::~Loan() {
  reset();
}

void Loan::reset() noexcept {
  PublisherImpl* owner = std::exchange(owner_, nullptr);
  data_ = nullptr;
  size_ = capacity_ = 0;
  if (owner == nullptr) return;
  // No fork check here (it would cost a system call per sample): a forked
  // child must not destroy what it inherited (sample.hpp, loan.hpp).
  detail::drop_reference(*owner->topic, index_, detail::publisher_bit(owner->slot));
  detail::release(owner);
}

void Loan::resize(std::size_t n) {
  detail::throwing([&](Failure& f) {
    if (owner_ == nullptr) {
      f.set(errc::invalid_state, "resize() of an empty Loan; loan a sample first");
    } else if (n > capacity_) {
      f.set(errc::invalid_size, owner_->topic->what + ": a loan holds at most " +
                                    std::to_string(capacity_) + " bytes, not " + std::to_string(n));
    } else {
      size_ = n;
    }
  });
}

void Loan::resize(std::size_t n, std::error_code& ec) noexcept {
  detail::without_throwing(ec, [&](Failure& f) {
    if (owner_ == nullptr) {
      f.set(errc::invalid_state, "resize() of an empty Loan; loan a sample first");
    } else if (n > capacity_) {
      f.set(errc::invalid_size, owner_->topic->what + ": a loan holds at most " +
                                    std::to_string(capacity_) + " bytes, not " + std::to_string(n));
    } else {
      size_ = n;
    }
  });
}

// ---- Publisher ----------------------------------------------------------------

Publisher Publisher::open_at(std::string_view topic_name, const TopicConfig* config,
                             const PublisherOptions& options, const detail::TopicType* type,
                             std::error_code* ec) {
  return Publisher(detail::run_reporting(ec, [&](Failure& f) -> PublisherImpl* {
    auto topic = detail::open_checked_topic(topic_name, config, options, true, type, f);
    if (f) return nullptr;
    auto impl = std::unique_ptr<PublisherImpl>(new PublisherImpl);
    impl->topic = topic;
    impl->wait = options.wait;
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
      detail::reclaim_locked(*topic);  // a newcomer takes over dead slots
      const int slot = detail::claim_publisher_slot_locked(*topic, impl->self, impl->generation, f);
      if (slot < 0) return nullptr;
      impl->slot = static_cast<std::size_t>(slot);
      impl->attached = true;
    }
    impl->last_reclaim = detail::TopicClock::now();
    detail::wake_all_subscribers(*topic);  // subscribers waiting for a publisher
    return impl.release();
  }));
}

Publisher Publisher::open(std::string_view topic_name, const PublisherOptions& options) {
  return open_at(topic_name, nullptr, options, nullptr, nullptr);
}
Publisher Publisher::open(std::string_view topic_name, const PublisherOptions& options,
                          std::error_code& ec) noexcept {
  return open_at(topic_name, nullptr, options, nullptr, &ec);
}
Publisher Publisher::open_or_create(std::string_view topic_name, const TopicConfig& config,
                                    const PublisherOptions& options) {
  return open_at(topic_name, &config, options, nullptr, nullptr);
}
Publisher Publisher::open_or_create(std::string_view topic_name, const TopicConfig& config,
                                    const PublisherOptions& options, std::error_code& ec) noexcept {
  return open_at(topic_name, &config, options, nullptr, &ec);
}

Publisher::Publisher(Publisher&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
Publisher& Publisher::operator=(Publisher&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::exchange(other.impl_, nullptr);
  }
  return *this;
}
Publisher::~Publisher() {
  close();
}
void Publisher::close() noexcept {
  detail::release(std::exchange(impl_, nullptr));
}

Loan Publisher::loan_at(std::size_t size, Deadline deadline, std::error_code* ec) {
  return detail::run_reporting(ec, [&](Failure& f) -> Loan {
    PublisherImpl* impl = detail::checked_impl(impl_, "Publisher", f);
    if (impl == nullptr) return Loan();
    if (size > impl->topic->config.sample_size) {
      f.set(errc::invalid_size, impl->topic->what + ": a loan of " + std::to_string(size) +
                                    " bytes does not fit its samples of " +
                                    std::to_string(impl->topic->config.sample_size));
      return Loan();
    }
    const long index = detail::take_sample(*impl, deadline);
    if (index < 0) return Loan();
    return LoanAccess::make(impl, static_cast<std::uint32_t>(index), size);
  });
}

bool Publisher::publish_at(Loan& loan, Deadline deadline, std::error_code* ec) {
  return detail::run_reporting(ec, [&](Failure& f) -> bool {
    PublisherImpl* impl = detail::checked_impl(impl_, "Publisher", f);
    if (impl == nullptr) return false;
    detail::TopicSegment& t = *impl->topic;
    if (LoanAccess::owner(loan) != impl) {
      f.set(errc::invalid_argument,
            t.what + (loan ? ": publish() of a loan from another publisher; publish it there"
                           : ": publish() of an empty loan; loan() a sample first"));
      return false;
    }
    const std::uint32_t index = LoanAccess::index(loan);
    for (int round = 0;; ++round) {
      // Room seen, then gone again (or words that keep lying): after the
      // retry the wait promised, the deadline holds.
      if (round >= 2 && detail::TopicClock::now() >= deadline) return false;
      std::size_t blocked = 0;
      std::uint64_t blocked_word = 0;
      bool delivered = false;
      {
        detail::TopicLockGuard guard(impl->lock, deadline);
        if (!guard.locked) return false;
        // The clock is read every 8th publish only: it costs as much as the
        // rest of an uncontended publish.
        const bool look = (++impl->publishes & 7) == 0;
        if (guard.owner_died || (look && detail::TopicClock::now() - impl->last_reclaim >=
                                             detail::k_publish_reclaim_interval)) {
          detail::reclaim_locked(t);
          impl->last_reclaim = detail::TopicClock::now();
        }
        const detail::DeliverResult result = detail::deliver_locked(
            t, impl->tails, impl->slot, impl->generation, index, loan.size(), blocked);
        if (result == detail::DeliverResult::delivered) {
          LoanAccess::consume(loan);
          delivered = true;
        } else {
          blocked_word = t.control->subscribers[blocked].identity.load(std::memory_order_acquire);
        }
      }
      if (delivered) {
        detail::claim_spare(*impl);  // off the lock, after the subscribers were told
        return true;
      }
      // A live block_publisher subscriber's queue is full: wait for room, for
      // it to leave, or for it to die (looked at once per interval; the next
      // deliver_locked reclaims it).
      auto& s = t.control->subscribers[blocked];
      auto next_liveness_check = detail::TopicClock::now() + detail::k_peer_check_interval;
      const detail::WaitResult waited = detail::wait_for_peer(
          impl->wait, deadline, t.space_words(),
          [&] {
            if (s.identity.load(std::memory_order_acquire) != blocked_word) return true;
            const std::uint64_t head = s.head.load(std::memory_order_acquire);
            const std::uint64_t tail = s.tail.load(std::memory_order_acquire);
            const std::uint64_t depth = s.queue_depth.load(std::memory_order_relaxed);
            return head < tail || head - tail < depth;  // garbage: look again under the lock
          },
          [&] {
            // Consulted on every wake-up: a liveness look once per interval.
            const auto now = detail::TopicClock::now();
            if (now < next_liveness_check) return false;
            next_liveness_check = now + detail::k_peer_check_interval;
            return !detail::slot_alive(blocked_word);  // dead: try again at once
          });
      if (waited == detail::WaitResult::timed_out) return false;
      // ready or peer_gone (the blocker died): deliver again.
    }
  });
}

void Publisher::publish_copy(const void* data, std::size_t size) {
  if (data == nullptr && size != 0) {
    detail::throwing([&](Failure& f) {
      f.set(errc::invalid_argument, "publish_copy() of a null pointer with a size");
    });
  }
  Loan loan = loan_at(size, k_forever, nullptr);
  if (size != 0) std::memcpy(loan.data(), data, size);
  (void)publish_at(loan, k_forever, nullptr);
}

void Publisher::publish_copy(const void* data, std::size_t size, std::error_code& ec) noexcept {
  if (data == nullptr && size != 0) {
    detail::without_throwing(ec, [&](Failure& f) {
      f.set(errc::invalid_argument, "publish_copy() of a null pointer with a size");
    });
    return;
  }
  Loan loan = loan_at(size, k_forever, &ec);
  if (ec || !loan) return;
  if (size != 0) std::memcpy(loan.data(), data, size);
  (void)publish_at(loan, k_forever, &ec);
}

std::size_t Publisher::max_sample_size() const noexcept {
  return impl_ != nullptr ? impl_->topic->config.sample_size : 0;
}
const std::string& Publisher::name() const noexcept {
  static const std::string empty;
  return impl_ != nullptr ? impl_->topic->name : empty;
}
std::uint32_t Publisher::generation() const noexcept {
  return impl_ != nullptr ? impl_->generation : 0;
}
std::size_t Publisher::subscriber_count() const noexcept {
  return impl_ != nullptr ? detail::live_subscribers(*impl_->topic) : 0;
}

SHMKIT_END_NAMESPACE
