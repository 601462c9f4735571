// WaitSet: the eventcount handshake of peer_wait.hpp over many objects at
// once. A wait announces itself in the sleepers count of every word-based
// entry, fences, looks at every entry's readiness, and only then sleeps, in
// one platform call (wait_any) on all the words and kernel handles, in
// slices of at most k_peer_check_interval so that a dead peer is noticed.
// The platform code is behind wait_any(), WaitInterrupt and ReadySignal.
#include <shmkit/wait_set.hpp>

#include "core/error_wrappers.hpp"
#include "messaging/peer_wait.hpp"
#include "messaging/subscriber_access.hpp"
#include "messaging/topic_endpoint.hpp"
#include "messaging/wait_hooks.hpp"
#include "sync/ready_signal.hpp"
#include "sync/sync_impl.hpp"
#include "sync/word_waiter.hpp"

#include <shmkit/channel.hpp>
#include <shmkit/named_event.hpp>
#include <shmkit/named_semaphore.hpp>
#include <shmkit/ring.hpp>
#include <shmkit/server.hpp>
#include <shmkit/subscriber.hpp>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

using Clock = std::chrono::steady_clock;

// Polling, where nothing else works: the portable path's waits, and the
// watcher while an entry is ready (nothing tells it when that is taken).
constexpr Clock::duration k_first_poll = std::chrono::microseconds(50);
constexpr Clock::duration k_max_poll = std::chrono::milliseconds(1);
constexpr Clock::duration k_max_watch_poll = std::chrono::milliseconds(5);

bool is_ready(WaitHook& hook) noexcept {
  try {
    return hook.ready();
  } catch (...) {
    return true;  // out of memory while looking: the object's own call reports what is wrong
  }
}

}  // namespace

class WaitSetImpl {
 public:
  WaitSetImpl() = default;
  WaitSetImpl(const WaitSetImpl&) = delete;
  WaitSetImpl& operator=(const WaitSetImpl&) = delete;

  ~WaitSetImpl() {
    if (!watcher_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    interrupt_.kick();
    try {
      watcher_.join();
    } catch (...) {
      watcher_.detach();  // cannot happen for a running thread we started; never throw
    }
  }

  // False in a fork() child: the watcher thread is the parent's.
  bool usable() const noexcept { return forks_ == fork_generation(); }

  std::size_t size() const noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    return count_;
  }

  std::size_t add(WaitHook&& hook, Failure& failure) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (count_ >= k_max_wait_set_entries) {
      failure.set(errc::overflow, "this WaitSet already holds " +
                                      std::to_string(k_max_wait_set_entries) +
                                      " objects, the most it can; remove() one or use a second "
                                      "WaitSet");
      return WaitSet::k_no_key;
    }
    std::size_t key = 0;
    while (key < entries_.size() && entries_[key] != nullptr) ++key;
    auto entry = std::make_unique<Entry>();
    entry->hook = std::move(hook);
    if (key == entries_.size()) {
      entries_.push_back(std::move(entry));
    } else {
      entries_[key] = std::move(entry);
    }
    ++count_;
    if (watcher_.joinable()) {
      interrupt_.kick();  // the watcher takes the new entry in
      (void)refresh_signal();
    }
    return key;
  }

  void remove(std::size_t key) noexcept {
    std::unique_lock<std::mutex> lock(mutex_);
    if (key >= entries_.size() || entries_[key] == nullptr || entries_[key]->removed) return;
    // Left out of every later round; the round under way may still use its
    // words, so the entry lives until that round ends.
    entries_[key]->removed = true;
    --count_;
    if (in_wait_) {
      const std::uint64_t round = rounds_;
      interrupt_.kick();
      round_ended_.wait(lock, [&] { return !in_wait_ || rounds_ != round; });
    }
    entries_[key].reset();
    if (watcher_.joinable()) (void)refresh_signal();  // allocates nothing: never throws
  }

  // The keys ready now; empty at `deadline`. `watcher`: the watcher thread's
  // wait, which a kick() ends early (and which remove() waits for).
  std::vector<std::size_t> wait(Deadline deadline, bool watcher) {
    const bool polls = wait_any_polls();
    Clock::duration poll = k_first_poll;
    // Room for every entry, taken before anything is announced: collect()
    // then allocates nothing between an announcement and its record.
    std::vector<WaitTarget> targets;
    std::vector<std::atomic<std::uint32_t>*> announced;
    targets.reserve(k_max_wait_set_entries);
    announced.reserve(k_max_wait_set_entries);
    for (;;) {
      targets.clear();
      const std::uint32_t kicks = interrupt_.seen();
      std::unique_lock<std::mutex> lock(mutex_);
      // Withdraws what is announced on every way out of this round, an
      // exception (out of memory in ready_keys()) included, and before
      // `lock` is released: a sleeper count left raised would cost every
      // later waker of the object a wake-up, and once unlocked, remove()
      // may let the object (and the count's memory) go.
      Announcements announcements(announced);
      if (watcher && stop_) return {};
      std::vector<std::size_t> keys = ready_keys();
      if (!keys.empty()) return keys;
      const auto now = Clock::now();
      if (now >= deadline) return keys;
      const bool fenceless_wakers = collect(polls, targets, announced);
      bool backstop = false;
      if (!announced.empty()) {
        // Pairs with the wakers' fence (peer_wait.hpp): either they see
        // our announcement and wake us, or we see their change now. Ring
        // wakers may skip theirs: the heavy barrier runs it for them.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        backstop = fenceless_wakers && !heavy_barrier();
        keys = ready_keys();
        if (!keys.empty()) return keys;
      }
      const auto longest = backstop ? Clock::duration(k_backstop_slice) : sleep_slice();
      Deadline slice = deadline - now > longest ? now + longest : deadline;
      if (polls) {
        slice = std::min(slice, now + poll);
        poll = std::min(poll * 2, k_max_poll);
      }
      if (watcher) in_wait_ = true;
      lock.unlock();
      wait_any(targets.data(), targets.size(), watcher ? &interrupt_ : nullptr, kicks, slice);
      // Before the round ends: remove() lets the object go once it has.
      announcements.withdraw();
      if (watcher) {
        lock.lock();
        in_wait_ = false;
        ++rounds_;
        lock.unlock();
        round_ended_.notify_all();
      }
    }
  }

  std::intptr_t pollable_handle(Failure& failure) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (watcher_.joinable()) return signal_.handle();
    if (!signal_.is_open() && !signal_.open(failure)) return -1;
    (void)refresh_signal();  // set at once if something is ready
    try {
      watcher_ = std::thread([this] { watch(); });
    } catch (const std::system_error& e) {
      failure.set(e.code(), std::string("cannot start the watcher thread of a WaitSet (") +
                                e.what() + "); the process is out of threads");
      return -1;
    }
    return signal_.handle();
  }

 private:
  struct Entry {
    WaitHook hook;
    bool removed = false;
  };

  // Withdraws a round's announcements (the sleepers counts collect() raised)
  // once: explicitly, or when it goes out of scope.
  class Announcements {
   public:
    explicit Announcements(std::vector<std::atomic<std::uint32_t>*>& announced) noexcept
        : announced_(announced) {}
    Announcements(const Announcements&) = delete;
    Announcements& operator=(const Announcements&) = delete;
    ~Announcements() { withdraw(); }
    void withdraw() noexcept {
      for (std::atomic<std::uint32_t>* sleepers : announced_) {
        sleepers->fetch_sub(1, std::memory_order_relaxed);
      }
      announced_.clear();
    }

   private:
    std::vector<std::atomic<std::uint32_t>*>& announced_;
  };

  // Called with the lock held: whether an entry is ready; sets or clears
  // the pollable handle, if any, to match. Allocates nothing.
  bool refresh_signal() noexcept {
    bool ready = false;
    for (const auto& entry : entries_) {
      if (entry != nullptr && !entry->removed && is_ready(entry->hook)) {
        ready = true;
        break;
      }
    }
    if (signal_.is_open()) {
      if (ready) {
        signal_.set();
      } else {
        signal_.clear();
      }
    }
    return ready;
  }

  // Called with the lock held. Keeps the pollable handle in step, if any.
  std::vector<std::size_t> ready_keys() {
    std::vector<std::size_t> keys;
    for (std::size_t key = 0; key < entries_.size(); ++key) {
      Entry* entry = entries_[key].get();
      if (entry != nullptr && !entry->removed && is_ready(entry->hook)) keys.push_back(key);
    }
    if (signal_.is_open()) {
      if (keys.empty()) {
        signal_.clear();
      } else {
        signal_.set();
      }
    }
    return keys;
  }

  // Called with the lock held: what to sleep on, announcing this wait on
  // every word (except where wait_any() only polls, and would never take
  // the wake-ups meant for it). The vectors have room for every entry, so
  // nothing here allocates (or throws) once a count is raised. True when an
  // announced object's wakers may skip their fence (WaitHook).
  bool collect(bool polls, std::vector<WaitTarget>& targets,
               std::vector<std::atomic<std::uint32_t>*>& announced) {
    bool fenceless_wakers = false;
    for (const auto& entry : entries_) {
      if (entry == nullptr || entry->removed) continue;
      const WaitHook& hook = entry->hook;
      WaitTarget target;
      if (hook.sleepers != nullptr && hook.signal != nullptr && hook.waiter != nullptr) {
        if (polls) continue;
        // The value before the announcement: a change after it ends the sleep.
        target.word = hook.signal;
        target.expected = hook.signal->load(std::memory_order_acquire);
        target.waiter = hook.waiter;
        hook.sleepers->fetch_add(1, std::memory_order_seq_cst);
        announced.push_back(hook.sleepers);
        fenceless_wakers = fenceless_wakers || hook.fenceless_wakers;
      } else if (hook.native_handle != nullptr) {
        target.native_handle = hook.native_handle;
        target.give_back = hook.give_back;
      } else {
        continue;
      }
      targets.push_back(target);
    }
    return fenceless_wakers;
  }

  // The watcher thread: sleeps until an entry is ready and sets the handle;
  // then, since nothing wakes it when the object is taken, looks again after
  // growing pauses until nothing is ready (refresh_signal() clears the handle).
  void watch() noexcept {
    interrupt_.bind_current_thread();
    for (;;) {
      Clock::duration pause = k_first_poll;
      try {
        (void)wait(k_forever, true);
      } catch (...) {
        // Out of memory: sleep a while, then look again.
        const std::uint32_t kicks = interrupt_.seen();
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (stop_) return;
        }
        wait_any(nullptr, 0, &interrupt_, kicks, Clock::now() + k_max_watch_poll);
      }
      for (;;) {
        const std::uint32_t kicks = interrupt_.seen();
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (stop_) return;
          if (!refresh_signal()) break;
        }
        wait_any(nullptr, 0, &interrupt_, kicks, Clock::now() + pause);
        pause = std::min(pause * 2, k_max_watch_poll);
      }
    }
  }

  mutable std::mutex mutex_;  // entries, their hooks' ready(), the handle, the flags below
  std::condition_variable round_ended_;
  std::vector<std::unique_ptr<Entry>> entries_;  // index = key; null = a free key
  std::size_t count_ = 0;
  ReadySignal signal_;
  WaitInterrupt interrupt_;
  bool stop_ = false;         // the destructor's request to the watcher
  bool in_wait_ = false;      // the watcher sleeps on the entries' words
  std::uint64_t rounds_ = 0;  // the watcher's sleeps so far
  std::uint32_t forks_ = fork_generation();
  std::thread watcher_;  // last: started after everything it uses exists
};

namespace {

template <typename Fn>
auto run(std::error_code* ec, Fn&& fn) {
  if (ec == nullptr) return throwing(std::forward<Fn>(fn));
  return without_throwing(*ec, std::forward<Fn>(fn));
}

void report_forked(Failure& failure) {
  failure.set(errc::invalid_state,
              "this WaitSet was inherited through fork() and belongs to the parent; make a new "
              "one in the child");
}

// `hook` is the one wait_hook() gave for `handle`: without `ready` (and
// without `failure` set), the handle is empty or the parent's.
template <typename Handle>
WaitHook checked(WaitHook hook, const char* kind, const Handle& handle, Failure& failure) {
  if (failure || hook.ready) return hook;
  if (handle.is_open()) {
    failure.set(errc::invalid_state, std::string("WaitSet::add(): this ") + kind +
                                         " handle was inherited through fork() and belongs to "
                                         "the parent; open the object again in the child");
  } else {
    failure.set(errc::invalid_state, std::string("WaitSet::add(): this ") + kind +
                                         " handle is empty; open or create it first");
  }
  return WaitHook();
}

// One per kind of object, for WaitSet::add_hook().
WaitHook consumer_hook(const void* object, std::size_t, Failure& failure) {
  const auto& consumer = *static_cast<const RingConsumer*>(object);
  return checked(wait_hook(consumer), "RingConsumer", consumer, failure);
}
WaitHook channel_hook(const void* object, std::size_t, Failure& failure) {
  const auto& channel = *static_cast<const Channel*>(object);
  return checked(wait_hook(channel), "Channel", channel, failure);
}
WaitHook server_hook(const void* object, std::size_t, Failure& failure) {
  const auto& server = *static_cast<const Server*>(object);
  return checked(wait_hook(server), "Server", server, failure);
}
WaitHook event_hook(const void* object, std::size_t, Failure& failure) {
  const auto& event = *static_cast<const NamedEvent*>(object);
  return checked(wait_hook(event, failure), "NamedEvent", event, failure);
}
WaitHook semaphore_hook(const void* object, std::size_t, Failure& failure) {
  const auto& semaphore = *static_cast<const NamedSemaphore*>(object);
  return checked(wait_hook(semaphore, failure), "NamedSemaphore", semaphore, failure);
}
WaitHook subscriber_hook(const void* object, std::size_t, Failure& failure) {
  const auto& subscriber = *static_cast<const Subscriber*>(object);
  // Its wait_hook() gives an empty handle a hook that is always ready.
  const SubscriberImpl* impl = SubscriberAccess::impl(subscriber);
  if (impl == nullptr || !impl->in_owner_process())
    return checked(WaitHook(), "Subscriber", subscriber, failure);
  return checked(wait_hook(subscriber), "Subscriber", subscriber, failure);
}
WaitHook producer_hook(const void* object, std::size_t message_size, Failure& failure) {
  const auto& producer = *static_cast<const RingProducer*>(object);
  if (producer.is_open() && message_size > producer.max_message_size()) {
    failure.set(errc::message_too_large,
                "WaitSet::add(): ring " + quoted(producer.name()) + " takes messages of at most " +
                    std::to_string(producer.max_message_size()) + " bytes, not " +
                    std::to_string(message_size) + "; wait for a size it can take");
    return WaitHook();
  }
  return checked(wait_hook(producer, message_size), "RingProducer", producer, failure);
}

}  // namespace
}  // namespace detail

using detail::Failure;

WaitSet::WaitSet(WaitSet&& other) noexcept : impl_(other.impl_) {
  other.impl_ = nullptr;
}

WaitSet& WaitSet::operator=(WaitSet&& other) noexcept {
  if (this != &other) {
    WaitSet old(std::move(*this));
    impl_ = other.impl_;
    other.impl_ = nullptr;
  }
  return *this;
}

WaitSet::~WaitSet() {
  // In a fork() child the impl holds the parent's watcher thread, which
  // cannot be joined here: it is left behind (the child's memory only).
  if (impl_ != nullptr && impl_->usable()) delete impl_;
}

std::size_t WaitSet::add_hook(HookMaker make, const void* object, std::size_t argument,
                              std::error_code* ec) {
  return detail::run(ec, [&](Failure& f) -> std::size_t {
    if (impl_ != nullptr && !impl_->usable()) {
      detail::report_forked(f);
      return k_no_key;
    }
    detail::WaitHook hook = make(object, argument, f);
    if (f) return k_no_key;
    if (impl_ == nullptr) impl_ = new detail::WaitSetImpl();
    return impl_->add(std::move(hook), f);
  });
}

std::size_t WaitSet::add(const RingConsumer& consumer) {
  return add_hook(&detail::consumer_hook, &consumer, 0, nullptr);
}
std::size_t WaitSet::add(const RingConsumer& consumer, std::error_code& ec) noexcept {
  return add_hook(&detail::consumer_hook, &consumer, 0, &ec);
}
std::size_t WaitSet::add(const RingProducer& producer, std::size_t message_size) {
  return add_hook(&detail::producer_hook, &producer, message_size, nullptr);
}
std::size_t WaitSet::add(const RingProducer& producer, std::size_t message_size,
                         std::error_code& ec) noexcept {
  return add_hook(&detail::producer_hook, &producer, message_size, &ec);
}
std::size_t WaitSet::add(const Channel& channel) {
  return add_hook(&detail::channel_hook, &channel, 0, nullptr);
}
std::size_t WaitSet::add(const Channel& channel, std::error_code& ec) noexcept {
  return add_hook(&detail::channel_hook, &channel, 0, &ec);
}
std::size_t WaitSet::add(const Server& server) {
  return add_hook(&detail::server_hook, &server, 0, nullptr);
}
std::size_t WaitSet::add(const Server& server, std::error_code& ec) noexcept {
  return add_hook(&detail::server_hook, &server, 0, &ec);
}
std::size_t WaitSet::add(const NamedEvent& event) {
  return add_hook(&detail::event_hook, &event, 0, nullptr);
}
std::size_t WaitSet::add(const NamedEvent& event, std::error_code& ec) noexcept {
  return add_hook(&detail::event_hook, &event, 0, &ec);
}
std::size_t WaitSet::add(const NamedSemaphore& semaphore) {
  return add_hook(&detail::semaphore_hook, &semaphore, 0, nullptr);
}
std::size_t WaitSet::add(const NamedSemaphore& semaphore, std::error_code& ec) noexcept {
  return add_hook(&detail::semaphore_hook, &semaphore, 0, &ec);
}

std::size_t WaitSet::add(const Subscriber& subscriber) {
  return add_hook(&detail::subscriber_hook, &subscriber, 0, nullptr);
}
std::size_t WaitSet::add(const Subscriber& subscriber, std::error_code& ec) noexcept {
  return add_hook(&detail::subscriber_hook, &subscriber, 0, &ec);
}

void WaitSet::remove(std::size_t key) noexcept {
  if (impl_ != nullptr && impl_->usable()) impl_->remove(key);
}

std::size_t WaitSet::size() const noexcept {
  return impl_ != nullptr && impl_->usable() ? impl_->size() : 0;
}

std::vector<std::size_t> WaitSet::wait_at(Deadline deadline, std::error_code* ec) {
  return detail::run(ec, [&](Failure& f) -> std::vector<std::size_t> {
    if (impl_ != nullptr && !impl_->usable()) {
      detail::report_forked(f);
      return {};
    }
    if (impl_ == nullptr || impl_->size() == 0) {
      if (deadline == k_forever) {
        f.set(errc::invalid_state,
              "WaitSet::wait() on a set without objects would never return; add() one first");
        return {};
      }
      std::this_thread::sleep_until(deadline);  // nothing can become ready
      return {};
    }
    return impl_->wait(deadline, false);
  });
}

namespace {

std::intptr_t start_watching(detail::WaitSetImpl*& impl, std::error_code* ec) {
  return detail::run(ec, [&](Failure& f) -> std::intptr_t {
    if (impl != nullptr && !impl->usable()) {
      detail::report_forked(f);
      return -1;
    }
    if (impl == nullptr) impl = new detail::WaitSetImpl();
    return impl->pollable_handle(f);
  });
}

}  // namespace

std::intptr_t WaitSet::pollable_handle() {
  return start_watching(impl_, nullptr);
}

std::intptr_t WaitSet::pollable_handle(std::error_code& ec) noexcept {
  return start_watching(impl_, &ec);
}

SHMKIT_END_NAMESPACE
