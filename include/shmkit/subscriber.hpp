// The receiving side of a Topic (topic.hpp): read-only references to the
// samples publishers publish, in publish order, each exactly once.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/sample.hpp>
#include <shmkit/topic_options.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

template <typename T>
class TypedSubscriber;

namespace detail {
struct SubscriberAccess;
}  // namespace detail

// auto sub = Subscriber::open("frames");
// while (Sample frame = sub.receive_for(std::chrono::seconds(1))) use(frame.bytes());
//
// A topic has up to max_subscribers subscribers at once, each in a slot of
// its own with a queue of queue_depth samples: opening one while every slot
// holds a live process is errc::role_taken; a dead or closed subscriber's
// slot is taken over (what it held returns to the pool). A subscriber gets
// every sample published while it is attached, in publish order, unless its
// queue was full: then OverflowPolicy decides (drop_oldest: the oldest queued
// sample is dropped and counted in dropped(); block_publisher: the publisher
// waits). With SubscriberOptions::history > 0 it first gets up to that many
// of the last samples published before it attached (the topic keeps
// TopicConfig::history of them), oldest first.
//
// errc::peer_gone: once every publisher that was attached while this
// subscriber was (or that attached after it) has gone (closed or died) and
// everything queued has been received. Never for a publisher that has not
// come yet; a new publisher clears it and receiving goes on.
//
// Blocking calls come in four forms (op, try_op, op_for, op_until), each with
// a noexcept twin taking std::error_code&; "not now" is an empty Sample.
// Receiving takes no lock. Opening waits for the topic's lock up to
// open_timeout; the destructor and close() up to one second (held for
// microseconds, so only a process stuck holding it makes them wait), and then
// let go of the slot without it: its samples return at once, and the slot is
// reused only after a later pass under the lock.
//
// Threads: one thread at a time per handle (its Samples included); handles
// in different threads are independent. Fork: in
// a forked child the handle must not be used; the child may destroy it, which
// leaves the parent's slot alone.
class SHMKIT_EXPORT Subscriber {
 public:
  // ---- factory -----------------------------------------------------------
  // The topic must exist (errc::not_found; it waits up to
  // ObjectOptions::open_timeout for one being created).
  // Errors: errc::role_taken (every subscriber slot holds a live process),
  // errc::invalid_size (queue_depth > the topic's max_queue_depth, or
  // history > the queue depth), errc::corrupted, and Topic::open's errors.
  [[nodiscard]] static Subscriber open(std::string_view topic_name,
                                       const SubscriberOptions& options = {});
  [[nodiscard]] static Subscriber open(std::string_view topic_name,
                                       const SubscriberOptions& options,
                                       std::error_code& ec) noexcept;

  Subscriber() noexcept = default;  // empty: every operation is errc::invalid_state
  Subscriber(Subscriber&& other) noexcept;
  Subscriber& operator=(Subscriber&& other) noexcept;
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;
  ~Subscriber();
  // Gives up this handle; the slot is released (and what is still queued
  // returns to the pool) once its last Sample is gone.
  void close() noexcept;

  // ---- receive: the next sample, an empty Sample when not now ------------
  // Errors: errc::peer_gone (see above), errc::corrupted (the control state
  // or a sample header was overwritten), errc::invalid_state (empty handle).
  Sample receive() { return receive_at(k_forever, nullptr); }
  [[nodiscard]] Sample try_receive() { return receive_at(Deadline(), nullptr); }
  template <class Rep, class Period>
  [[nodiscard]] Sample receive_for(const std::chrono::duration<Rep, Period>& timeout) {
    return receive_at(deadline_after(timeout), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] Sample receive_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return receive_at(to_deadline(deadline), nullptr);
  }
  Sample receive(std::error_code& ec) noexcept { return receive_at(k_forever, &ec); }
  [[nodiscard]] Sample try_receive(std::error_code& ec) noexcept {
    return receive_at(Deadline(), &ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] Sample receive_for(const std::chrono::duration<Rep, Period>& timeout,
                                   std::error_code& ec) noexcept {
    return receive_at(deadline_after(timeout), &ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] Sample receive_until(const std::chrono::time_point<Clock, Duration>& deadline,
                                     std::error_code& ec) noexcept {
    return receive_at(to_deadline(deadline), &ec);
  }

  // ---- state (0 or "" on an empty handle) --------------------------------
  bool is_open() const noexcept { return impl_ != nullptr; }
  explicit operator bool() const noexcept { return is_open(); }
  // Samples this subscriber lost to drop_oldest (counted by publishers).
  std::uint64_t dropped() const noexcept;
  std::size_t queue_depth() const noexcept;
  const std::string& name() const noexcept;
  // This subscriber's slot in the topic: 0..max_subscribers-1.
  std::size_t slot() const noexcept;
  // The topic's sample_size.
  std::size_t max_sample_size() const noexcept;

 private:
  friend struct detail::SubscriberAccess;
  template <typename T>
  friend class TypedSubscriber;
  explicit Subscriber(detail::SubscriberImpl* impl) noexcept : impl_(impl) {}

  // `type` null = any type.
  static Subscriber open_at(std::string_view topic_name, const SubscriberOptions& options,
                            const detail::TopicType* type, std::error_code* ec);

  Sample receive_at(Deadline deadline, std::error_code* ec);

  detail::SubscriberImpl* impl_ = nullptr;  // one counted reference
};

SHMKIT_END_NAMESPACE
