// The consuming end of a Ring (see ring_producer.hpp for the ring itself).
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
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
struct RingConsumerImpl;
struct ChannelAccess;
}  // namespace detail

// The one consumer of a ring. Taking the role while a live process holds it
// is errc::role_taken; a dead or closed consumer's role is taken over, and
// the new consumer goes on after what the old one released (what it peeked
// and never released is delivered again).
//
// Restarts: each message carries the generation of the producer that
// committed it (message_generation()); peer_generation() is the generation
// of the latest producer to attach. A consumer that restarts after a crash
// tells the dead producer's leftovers (message_generation() <
// peer_generation()) from the new producer's messages. A consumer receives
// every message a producer committed before it died, and never a partial
// one; only then does it learn errc::peer_gone - and only about a producer
// that was attached while this consumer was (or that attached after it): a
// consumer that attaches to a ring without a live producer (never had one,
// or its producer died or closed) waits for the next one. After peer_gone,
// once a new producer attaches, receiving goes on (wait_for_peer() waits for
// it).
//
// Blocking calls come in four forms (op, try_op, op_for, op_until), each
// with a noexcept twin taking std::error_code&; "not now" is an empty span
// (data == nullptr) or std::nullopt.
//
// Zero-length messages are delivered: peek() gives a span with data !=
// nullptr and size 0 (so it tests true), receive() returns 0 and
// try_receive() std::optional holding 0.
//
// Threads and fork: as RingProducer (one thread at a time per handle; in a
// forked child, do not use the parent's handle).
class SHMKIT_EXPORT RingConsumer {
 public:
  static constexpr std::size_t k_default_capacity = k_default_ring_capacity;

  // ---- factories: as RingProducer's ------------------------------------------
  [[nodiscard]] static RingConsumer create(std::string_view name,
                                           std::size_t capacity = k_default_ring_capacity,
                                           const RingOptions& options = {});
  [[nodiscard]] static RingConsumer create(std::string_view name, std::size_t capacity,
                                           const RingOptions& options,
                                           std::error_code& ec) noexcept;
  [[nodiscard]] static RingConsumer open(std::string_view name, const RingOptions& options = {});
  [[nodiscard]] static RingConsumer open(std::string_view name, const RingOptions& options,
                                         std::error_code& ec) noexcept;
  [[nodiscard]] static RingConsumer open_or_create(std::string_view name,
                                                   std::size_t capacity = k_default_ring_capacity,
                                                   const RingOptions& options = {});
  [[nodiscard]] static RingConsumer open_or_create(std::string_view name, std::size_t capacity,
                                                   const RingOptions& options,
                                                   std::error_code& ec) noexcept;
  static bool remove(std::string_view name, const RingOptions& options = {});
  static bool remove(std::string_view name, const RingOptions& options,
                     std::error_code& ec) noexcept;
  [[nodiscard]] static bool exists(std::string_view name, const RingOptions& options = {});
  [[nodiscard]] static bool exists(std::string_view name, const RingOptions& options,
                                   std::error_code& ec) noexcept;

  RingConsumer() noexcept = default;  // empty: every operation is errc::invalid_state
  RingConsumer(RingConsumer&& other) noexcept;
  RingConsumer& operator=(RingConsumer&& other) noexcept;
  RingConsumer(const RingConsumer&) = delete;
  RingConsumer& operator=(const RingConsumer&) = delete;
  ~RingConsumer();
  void close() noexcept;

  // ---- zero-copy: peek, read, release ---------------------------------------
  // The next message, valid until release(); empty when not now. Peeking
  // again before release() gives the message after it (a batch).
  // Errors: errc::peer_gone (producer gone and everything read),
  // errc::corrupted, errc::invalid_state (empty handle).
  ConstByteSpan peek() { return peek_at(k_forever, nullptr); }
  [[nodiscard]] ConstByteSpan try_peek() { return peek_at(Deadline(), nullptr); }
  template <class Rep, class Period>
  [[nodiscard]] ConstByteSpan peek_for(const std::chrono::duration<Rep, Period>& timeout) {
    return peek_at(deadline_after(timeout), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] ConstByteSpan peek_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return peek_at(to_deadline(deadline), nullptr);
  }
  ConstByteSpan peek(std::error_code& ec) noexcept { return peek_at(k_forever, &ec); }
  [[nodiscard]] ConstByteSpan try_peek(std::error_code& ec) noexcept {
    return peek_at(Deadline(), &ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] ConstByteSpan peek_for(const std::chrono::duration<Rep, Period>& timeout,
                                       std::error_code& ec) noexcept {
    return peek_at(deadline_after(timeout), &ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] ConstByteSpan peek_until(const std::chrono::time_point<Clock, Duration>& deadline,
                                         std::error_code& ec) noexcept {
    return peek_at(to_deadline(deadline), &ec);
  }
  // Frees every message peeked so far, making room for the producer. Does
  // nothing when nothing is peeked or the handle is empty.
  void release() noexcept;

  // ---- copying --------------------------------------------------------------
  // Copies the next message into `buffer` and returns its size (receive();
  // the others std::nullopt when not now; the ec twin of receive() 0 on
  // failure). A message larger than `capacity` stays in the ring and the
  // call fails with errc::message_too_large.
  // Errors: as peek(), and errc::message_too_large.
  std::size_t receive(void* buffer, std::size_t capacity) {
    return *receive_at(buffer, capacity, k_forever, nullptr);
  }
  [[nodiscard]] std::optional<std::size_t> try_receive(void* buffer, std::size_t capacity) {
    return receive_at(buffer, capacity, Deadline(), nullptr);
  }
  template <class Rep, class Period>
  [[nodiscard]] std::optional<std::size_t> receive_for(
      void* buffer, std::size_t capacity, const std::chrono::duration<Rep, Period>& timeout) {
    return receive_at(buffer, capacity, deadline_after(timeout), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] std::optional<std::size_t> receive_until(
      void* buffer, std::size_t capacity,
      const std::chrono::time_point<Clock, Duration>& deadline) {
    return receive_at(buffer, capacity, to_deadline(deadline), nullptr);
  }
  std::size_t receive(void* buffer, std::size_t capacity, std::error_code& ec) noexcept {
    return receive_at(buffer, capacity, k_forever, &ec).value_or(0);
  }
  [[nodiscard]] std::optional<std::size_t> try_receive(void* buffer, std::size_t capacity,
                                                       std::error_code& ec) noexcept {
    return receive_at(buffer, capacity, Deadline(), &ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] std::optional<std::size_t> receive_for(
      void* buffer, std::size_t capacity, const std::chrono::duration<Rep, Period>& timeout,
      std::error_code& ec) noexcept {
    return receive_at(buffer, capacity, deadline_after(timeout), &ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] std::optional<std::size_t> receive_until(
      void* buffer, std::size_t capacity, const std::chrono::time_point<Clock, Duration>& deadline,
      std::error_code& ec) noexcept {
    return receive_at(buffer, capacity, to_deadline(deadline), &ec);
  }

  // ---- the peer -------------------------------------------------------------
  // Waits until a live producer is attached (at once if one is). Never
  // errc::peer_gone: it waits for the next producer.
  // Errors: errc::invalid_state (empty handle).
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
  // This consumer's generation (1 for the ring's first consumer, ...).
  std::uint32_t generation() const noexcept;
  // The generation of the latest producer to attach (0: none yet).
  std::uint32_t peer_generation() const noexcept;
  // The generation of the producer that committed the message last returned
  // by peek() or receive() (0 before the first).
  std::uint32_t message_generation() const noexcept;

 private:
  friend struct detail::ChannelAccess;
  explicit RingConsumer(detail::RingConsumerImpl* impl) noexcept : impl_(impl) {}

  ConstByteSpan peek_at(Deadline deadline, std::error_code* ec);
  std::optional<std::size_t> receive_at(void* buffer, std::size_t capacity, Deadline deadline,
                                        std::error_code* ec);
  bool wait_for_peer_at(Deadline deadline, std::error_code* ec);

  detail::RingConsumerImpl* impl_ = nullptr;
};

SHMKIT_END_NAMESPACE
