// The publishing side of a Topic (topic.hpp): loans samples from the pool and
// publishes them to every attached subscriber without copying.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/loan.hpp>
#include <shmkit/topic_options.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

template <typename T>
class TypedPublisher;

// auto pub = Publisher::open_or_create("frames", {1 << 20, 8});
// Loan frame = pub.loan(1 << 20);        // waits while no sample is free
// fill(frame.data(), frame.size());
// pub.publish(std::move(frame));         // every subscriber gets it, no copy
//
// A topic has up to max_publishers publishers at once, each in a slot of its
// own: opening one while every slot holds a live process is errc::role_taken;
// a dead or closed publisher's slot is taken over, and whatever it had on
// loan returns to the pool. Samples from several publishers are delivered in
// one topic-wide order (Sample::sequence()).
//
// Blocking calls come in four forms (op, try_op, op_for, op_until), each with
// a noexcept twin taking std::error_code&; "not now" is an empty Loan or
// false. Every form keeps its deadline, the wait for the topic's lock
// included (a try_ form only looks); the destructor and close() alone wait
// for the lock up to one second (held for microseconds, so only a process
// stuck holding it makes them wait), and then let go of the slot without
// it: the slot is reused only after a later pass under the lock. A publisher waits in two places
// only: for a free sample (loan), and for room in the queue of a live subscriber that asked for
// OverflowPolicy::block_publisher (publish). A subscriber with drop_oldest
// never makes it wait; a dead subscriber never does either (its slot and its
// samples are reclaimed).
//
// Crashes: a publisher killed while it holds loans leaves them to the next
// publisher or subscriber that attaches, or to any publisher that finds the
// pool empty, which reclaims them. Killed inside publish(), it may leave one
// sample held by a subscriber until that subscriber closes.
//
// Threads: one thread at a time per handle (its Loans included); handles in
// different threads, on one topic or not, are independent. Fork: in a
// forked child the handle must not be used; the child may destroy it, which
// leaves the parent's slot alone, and opens its own publisher.
class SHMKIT_EXPORT Publisher {
 public:
  // ---- factories ---------------------------------------------------------
  // open: the topic must exist (errc::not_found; it waits up to
  // ObjectOptions::open_timeout for one being created). open_or_create:
  // creates it with `config` when there is none; errc::size_mismatch when it
  // exists with another config.
  // Errors of both: errc::role_taken (every publisher slot holds a live
  // process), errc::invalid_size (a config field out of range),
  // errc::corrupted, and Topic::create's and Topic::open's errors.
  [[nodiscard]] static Publisher open(std::string_view topic_name,
                                      const PublisherOptions& options = {});
  [[nodiscard]] static Publisher open(std::string_view topic_name, const PublisherOptions& options,
                                      std::error_code& ec) noexcept;
  [[nodiscard]] static Publisher open_or_create(std::string_view topic_name,
                                                const TopicConfig& config,
                                                const PublisherOptions& options = {});
  [[nodiscard]] static Publisher open_or_create(std::string_view topic_name,
                                                const TopicConfig& config,
                                                const PublisherOptions& options,
                                                std::error_code& ec) noexcept;

  Publisher() noexcept = default;  // empty: every operation is errc::invalid_state
  Publisher(Publisher&& other) noexcept;
  Publisher& operator=(Publisher&& other) noexcept;
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;
  ~Publisher();
  // Gives up this handle; the slot is released once its last Loan is gone.
  void close() noexcept;

  // ---- loan: a writable sample of `size` bytes ---------------------------
  // Waits while no sample of the pool is free; an empty Loan when not now.
  // Errors: errc::invalid_size (size > max_sample_size()),
  // errc::corrupted, errc::invalid_state (empty handle).
  Loan loan(std::size_t size) { return loan_at(size, k_forever, nullptr); }
  [[nodiscard]] Loan try_loan(std::size_t size) { return loan_at(size, Deadline(), nullptr); }
  template <class Rep, class Period>
  [[nodiscard]] Loan loan_for(std::size_t size, const std::chrono::duration<Rep, Period>& timeout) {
    return loan_at(size, deadline_after(timeout), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] Loan loan_until(std::size_t size,
                                const std::chrono::time_point<Clock, Duration>& deadline) {
    return loan_at(size, to_deadline(deadline), nullptr);
  }
  Loan loan(std::size_t size, std::error_code& ec) noexcept {
    return loan_at(size, k_forever, &ec);
  }
  [[nodiscard]] Loan try_loan(std::size_t size, std::error_code& ec) noexcept {
    return loan_at(size, Deadline(), &ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] Loan loan_for(std::size_t size, const std::chrono::duration<Rep, Period>& timeout,
                              std::error_code& ec) noexcept {
    return loan_at(size, deadline_after(timeout), &ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] Loan loan_until(std::size_t size,
                                const std::chrono::time_point<Clock, Duration>& deadline,
                                std::error_code& ec) noexcept {
    return loan_at(size, to_deadline(deadline), &ec);
  }

  // ---- publish: hand the loan to every attached subscriber ---------------
  // Waits only while the queue of a live block_publisher subscriber is full.
  // When it returns false (not now) the loan stays with the caller and no
  // subscriber got it; on true (and after publish()) the loan is empty.
  // A subscriber whose queue words in the control segment are garbage is
  // skipped: it gets nothing, the others get the sample, and the publish is
  // not an error (that subscriber's receive reports errc::corrupted).
  // Errors: errc::invalid_argument (an empty loan, or one of another
  // publisher), errc::invalid_state (empty handle); the loan stays with the
  // caller.
  void publish(Loan&& loan) { (void)publish_at(loan, k_forever, nullptr); }
  [[nodiscard]] bool try_publish(Loan& loan) { return publish_at(loan, Deadline(), nullptr); }
  template <class Rep, class Period>
  [[nodiscard]] bool publish_for(Loan& loan, const std::chrono::duration<Rep, Period>& timeout) {
    return publish_at(loan, deadline_after(timeout), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool publish_until(Loan& loan,
                                   const std::chrono::time_point<Clock, Duration>& deadline) {
    return publish_at(loan, to_deadline(deadline), nullptr);
  }
  void publish(Loan&& loan, std::error_code& ec) noexcept {
    (void)publish_at(loan, k_forever, &ec);
  }
  [[nodiscard]] bool try_publish(Loan& loan, std::error_code& ec) noexcept {
    return publish_at(loan, Deadline(), &ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool publish_for(Loan& loan, const std::chrono::duration<Rep, Period>& timeout,
                                 std::error_code& ec) noexcept {
    return publish_at(loan, deadline_after(timeout), &ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool publish_until(Loan& loan,
                                   const std::chrono::time_point<Clock, Duration>& deadline,
                                   std::error_code& ec) noexcept {
    return publish_at(loan, to_deadline(deadline), &ec);
  }

  // loan(size) + memcpy + publish(), waiting for ever in both.
  // Errors: as loan() and publish(); errc::invalid_argument (data null with
  // size > 0).
  void publish_copy(const void* data, std::size_t size);
  void publish_copy(const void* data, std::size_t size, std::error_code& ec) noexcept;

  // ---- state (0 or "" on an empty handle) --------------------------------
  bool is_open() const noexcept { return impl_ != nullptr; }
  explicit operator bool() const noexcept { return is_open(); }
  // The topic's sample_size: the largest loan.
  std::size_t max_sample_size() const noexcept;
  const std::string& name() const noexcept;
  // This publisher's attach generation (topic-wide: 1 for the topic's first
  // publisher, then +1 per attach); carried by every sample it publishes.
  std::uint32_t generation() const noexcept;
  // Subscribers attached now (whose processes were alive when last checked).
  std::size_t subscriber_count() const noexcept;

 private:
  template <typename T>
  friend class TypedPublisher;
  explicit Publisher(detail::PublisherImpl* impl) noexcept : impl_(impl) {}

  // Every factory: `config` null = open; `type` null = any type.
  static Publisher open_at(std::string_view topic_name, const TopicConfig* config,
                           const PublisherOptions& options, const detail::TopicType* type,
                           std::error_code* ec);

  Loan loan_at(std::size_t size, Deadline deadline, std::error_code* ec);
  bool publish_at(Loan& loan, Deadline deadline, std::error_code* ec);

  detail::PublisherImpl* impl_ = nullptr;  // one counted reference
};

SHMKIT_END_NAMESPACE
