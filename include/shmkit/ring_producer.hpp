// The producing end of a Ring: a single-producer single-consumer ring of
// variable-length messages in one named segment, zero-copy on both sides.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/byte_span.hpp>
#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/ring_options.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
struct RingProducerImpl;
struct ChannelAccess;
}  // namespace detail

// One process produces and one consumes: a ring has one RingProducer and one
// RingConsumer at a time, each opened by name. Taking the producer's role
// while a live process holds it is errc::role_taken; a dead or closed
// producer's role is taken over, and the new producer goes on after what the
// old one committed (what it reserved and never committed is dropped).
//
// Generations: every attach of a producer starts a new generation (a counter
// in the ring: 1, 2, ...). generation() is this producer's; each message
// carries it, so a consumer tells a dead producer's leftovers from this
// producer's messages (RingConsumer::message_generation()).
//
// Blocking calls come in four forms: op() waits for ever, try_op() does not
// wait, op_for(duration) and op_until(time_point) wait until a deadline and
// then report "not now" (an empty span, false, 0 sent). Each has a noexcept
// twin taking std::error_code& that reports failures there instead of
// throwing shmkit::Error; error_message(ec) gives the exception's sentence.
// A producer only waits when the ring is full; it gets errc::peer_gone only
// when the ring is full and the consumer that was attached has left (a
// consumer that never came, or left before this producer attached, is waited
// for: it may come).
//
// Zero-length messages are allowed: reserve(0) gives a non-empty ByteSpan
// (data != nullptr, size 0) and the consumer receives them as messages of
// size 0.
//
// Threads: one handle is used by one thread at a time (no call may run
// concurrently with another on the same handle); the producer and consumer
// handles of one ring may be used from distinct threads or processes.
// Fork: the role belongs to the process that opened it. In a forked child
// the handle must not be used (the child may only destroy it, which leaves
// the parent's role alone); the child opens its own endpoint once the parent
// has closed its one.
//
// Names: 1-k_max_name_length characters (see name.hpp). Where no futex
// exists, shmkit derives "<name>.1" for the wake-ups, which always fits.
class SHMKIT_EXPORT RingProducer {
 public:
  static constexpr std::size_t k_default_capacity = k_default_ring_capacity;

  // ---- factories ---------------------------------------------------------
  // `capacity` is rounded up to a power of two (at least 256 bytes); the
  // largest message is max_message_size() = capacity() - 8 bytes.
  // Errors: errc::invalid_name, errc::already_exists, errc::invalid_size,
  // errc::role_taken (open), errc::not_found (open), errc::size_mismatch
  // (open_or_create: another capacity), errc::wrong_kind,
  // errc::incompatible_layout, errc::corrupted, errc::untrusted_owner,
  // errc::insecure_permissions, OS errors.
  [[nodiscard]] static RingProducer create(std::string_view name,
                                           std::size_t capacity = k_default_ring_capacity,
                                           const RingOptions& options = {});
  [[nodiscard]] static RingProducer create(std::string_view name, std::size_t capacity,
                                           const RingOptions& options,
                                           std::error_code& ec) noexcept;
  [[nodiscard]] static RingProducer open(std::string_view name, const RingOptions& options = {});
  [[nodiscard]] static RingProducer open(std::string_view name, const RingOptions& options,
                                         std::error_code& ec) noexcept;
  [[nodiscard]] static RingProducer open_or_create(std::string_view name,
                                                   std::size_t capacity = k_default_ring_capacity,
                                                   const RingOptions& options = {});
  [[nodiscard]] static RingProducer open_or_create(std::string_view name, std::size_t capacity,
                                                   const RingOptions& options,
                                                   std::error_code& ec) noexcept;
  // Removes the ring's name (both ends share it); false if there was none.
  // Open handles keep working. Errors: errc::invalid_name, OS errors.
  static bool remove(std::string_view name, const RingOptions& options = {});
  static bool remove(std::string_view name, const RingOptions& options,
                     std::error_code& ec) noexcept;
  // Whether a ring (or any shmkit object) has this name.
  // Errors: errc::invalid_name, OS errors.
  [[nodiscard]] static bool exists(std::string_view name, const RingOptions& options = {});
  [[nodiscard]] static bool exists(std::string_view name, const RingOptions& options,
                                   std::error_code& ec) noexcept;

  RingProducer() noexcept = default;  // empty: every operation is errc::invalid_state
  RingProducer(RingProducer&& other) noexcept;
  RingProducer& operator=(RingProducer&& other) noexcept;
  RingProducer(const RingProducer&) = delete;
  RingProducer& operator=(const RingProducer&) = delete;
  // Gives up the role (a waiting consumer learns it once it has read
  // everything committed). Deferred commits are published first.
  ~RingProducer();
  void close() noexcept;

  // ---- zero-copy: reserve, fill, commit ----------------------------------
  // A span of exactly `size` writable bytes inside the ring; empty (data ==
  // nullptr) when not now. Nothing is visible to the consumer before commit.
  // Errors: errc::message_too_large (size > max_message_size()),
  // errc::peer_gone (ring full, consumer gone), errc::corrupted,
  // errc::invalid_state (empty handle, or a reservation is already open).
  ByteSpan reserve(std::size_t size) { return reserve_at(size, k_forever, nullptr); }
  [[nodiscard]] ByteSpan try_reserve(std::size_t size) {
    return reserve_at(size, Deadline(), nullptr);
  }
  template <class Rep, class Period>
  [[nodiscard]] ByteSpan reserve_for(std::size_t size,
                                     const std::chrono::duration<Rep, Period>& timeout) {
    return reserve_at(size, deadline_after(timeout), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] ByteSpan reserve_until(std::size_t size,
                                       const std::chrono::time_point<Clock, Duration>& deadline) {
    return reserve_at(size, to_deadline(deadline), nullptr);
  }
  ByteSpan reserve(std::size_t size, std::error_code& ec) noexcept {
    return reserve_at(size, k_forever, &ec);
  }
  [[nodiscard]] ByteSpan try_reserve(std::size_t size, std::error_code& ec) noexcept {
    return reserve_at(size, Deadline(), &ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] ByteSpan reserve_for(std::size_t size,
                                     const std::chrono::duration<Rep, Period>& timeout,
                                     std::error_code& ec) noexcept {
    return reserve_at(size, deadline_after(timeout), &ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] ByteSpan reserve_until(std::size_t size,
                                       const std::chrono::time_point<Clock, Duration>& deadline,
                                       std::error_code& ec) noexcept {
    return reserve_at(size, to_deadline(deadline), &ec);
  }

  // Publishes the first `used` bytes of the reservation (all of it without
  // `used`) as one message. Errors: errc::invalid_state (nothing reserved),
  // errc::message_too_large (used > the reserved size); either changes
  // nothing.
  void commit(std::size_t used);
  void commit();
  void commit(std::size_t used, std::error_code& ec) noexcept;
  void commit(std::error_code& ec) noexcept;
  // Like commit(), but the message stays invisible until flush() (or the
  // next commit() or send): commit a batch, then publish it with one store
  // and at most one wake-up. Errors: as commit().
  void commit_deferred(std::size_t used);
  void commit_deferred(std::size_t used, std::error_code& ec) noexcept;
  // Publishes deferred commits; does nothing on an empty handle.
  void flush() noexcept;

  // ---- copying ------------------------------------------------------------
  // Copies `size` bytes from `data` into the ring as one message. send()
  // waits for room for ever; the others return false when not now.
  // Errors: as reserve().
  void send(const void* data, std::size_t size) { (void)send_at(data, size, k_forever, nullptr); }
  [[nodiscard]] bool try_send(const void* data, std::size_t size) {
    return send_at(data, size, Deadline(), nullptr);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool send_for(const void* data, std::size_t size,
                              const std::chrono::duration<Rep, Period>& timeout) {
    return send_at(data, size, deadline_after(timeout), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool send_until(const void* data, std::size_t size,
                                const std::chrono::time_point<Clock, Duration>& deadline) {
    return send_at(data, size, to_deadline(deadline), nullptr);
  }
  void send(const void* data, std::size_t size, std::error_code& ec) noexcept {
    (void)send_at(data, size, k_forever, &ec);
  }
  [[nodiscard]] bool try_send(const void* data, std::size_t size, std::error_code& ec) noexcept {
    return send_at(data, size, Deadline(), &ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool send_for(const void* data, std::size_t size,
                              const std::chrono::duration<Rep, Period>& timeout,
                              std::error_code& ec) noexcept {
    return send_at(data, size, deadline_after(timeout), &ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool send_until(const void* data, std::size_t size,
                                const std::chrono::time_point<Clock, Duration>& deadline,
                                std::error_code& ec) noexcept {
    return send_at(data, size, to_deadline(deadline), &ec);
  }

  // Sends messages[0..count) and publishes them together (one wake-up);
  // returns how many were sent, in order, before the deadline or a failure.
  // Errors: as reserve().
  std::size_t send_batch(const ConstByteSpan* messages, std::size_t count) {
    return send_batch_at(messages, count, k_forever, nullptr);
  }
  [[nodiscard]] std::size_t try_send_batch(const ConstByteSpan* messages, std::size_t count) {
    return send_batch_at(messages, count, Deadline(), nullptr);
  }
  template <class Rep, class Period>
  [[nodiscard]] std::size_t send_batch_for(const ConstByteSpan* messages, std::size_t count,
                                           const std::chrono::duration<Rep, Period>& timeout) {
    return send_batch_at(messages, count, deadline_after(timeout), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] std::size_t send_batch_until(
      const ConstByteSpan* messages, std::size_t count,
      const std::chrono::time_point<Clock, Duration>& deadline) {
    return send_batch_at(messages, count, to_deadline(deadline), nullptr);
  }
  std::size_t send_batch(const ConstByteSpan* messages, std::size_t count,
                         std::error_code& ec) noexcept {
    return send_batch_at(messages, count, k_forever, &ec);
  }
  [[nodiscard]] std::size_t try_send_batch(const ConstByteSpan* messages, std::size_t count,
                                           std::error_code& ec) noexcept {
    return send_batch_at(messages, count, Deadline(), &ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] std::size_t send_batch_for(const ConstByteSpan* messages, std::size_t count,
                                           const std::chrono::duration<Rep, Period>& timeout,
                                           std::error_code& ec) noexcept {
    return send_batch_at(messages, count, deadline_after(timeout), &ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] std::size_t send_batch_until(
      const ConstByteSpan* messages, std::size_t count,
      const std::chrono::time_point<Clock, Duration>& deadline, std::error_code& ec) noexcept {
    return send_batch_at(messages, count, to_deadline(deadline), &ec);
  }

  // ---- the peer -------------------------------------------------------------
  // Waits until a live consumer is attached (at once if one is). Never
  // errc::peer_gone: it waits for the next consumer. Errors:
  // errc::invalid_state (empty handle).
  void wait_for_peer() { (void)wait_for_peer_at(k_forever, nullptr); }
  [[nodiscard]] bool try_wait_for_peer() { return wait_for_peer_at(Deadline(), nullptr); }
  template <class Rep, class Period>
  [[nodiscard]] bool wait_for_peer_for(const std::chrono::duration<Rep, Period>& timeout) {
    return wait_for_peer_at(deadline_after(timeout), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool wait_for_peer_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return wait_for_peer_at(to_deadline(deadline), nullptr);
  }
  void wait_for_peer(std::error_code& ec) noexcept { (void)wait_for_peer_at(k_forever, &ec); }
  [[nodiscard]] bool try_wait_for_peer(std::error_code& ec) noexcept {
    return wait_for_peer_at(Deadline(), &ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool wait_for_peer_for(const std::chrono::duration<Rep, Period>& timeout,
                                       std::error_code& ec) noexcept {
    return wait_for_peer_at(deadline_after(timeout), &ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool wait_for_peer_until(const std::chrono::time_point<Clock, Duration>& deadline,
                                         std::error_code& ec) noexcept {
    return wait_for_peer_at(to_deadline(deadline), &ec);
  }

  // ---- state (0 or "" on an empty handle) ---------------------------------
  bool is_open() const noexcept { return impl_ != nullptr; }
  std::size_t capacity() const noexcept;
  std::size_t max_message_size() const noexcept;
  const std::string& name() const noexcept;
  // This producer's generation: 1 for the ring's first producer, then one
  // more for each producer that attaches after it.
  std::uint32_t generation() const noexcept;
  // The generation of the latest consumer to attach (0: none yet).
  std::uint32_t peer_generation() const noexcept;

 private:
  friend struct detail::ChannelAccess;  // a Channel is two rings
  explicit RingProducer(detail::RingProducerImpl* impl) noexcept : impl_(impl) {}

  // One exported entry per blocking operation; `ec` null means throw.
  ByteSpan reserve_at(std::size_t size, Deadline deadline, std::error_code* ec);
  bool send_at(const void* data, std::size_t size, Deadline deadline, std::error_code* ec);
  std::size_t send_batch_at(const ConstByteSpan* messages, std::size_t count, Deadline deadline,
                            std::error_code* ec);
  bool wait_for_peer_at(Deadline deadline, std::error_code* ec);

  detail::RingProducerImpl* impl_ = nullptr;
};

SHMKIT_END_NAMESPACE
