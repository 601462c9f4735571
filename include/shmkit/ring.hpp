// A single-producer single-consumer ring of variable-length messages in one
// named segment, with zero-copy access on both sides.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/byte_span.hpp>
#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>
#include <shmkit/wait_options.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
class RingEndpoint;
struct ChannelAccess;
}  // namespace detail

enum class RingRole { producer, consumer };

// One process produces and one consumes; each opens the ring with its role.
// Taking a role that a live process holds is errc::role_taken; a dead or
// closed holder's role is taken over.
//
// Blocking calls wait per WaitOptions and always return: at their deadline
// (an empty span, nullopt or false), or with errc::peer_gone once the other
// side has exited or closed and nothing more can come (or go). A consumer
// still receives every message the producer committed before it died, and
// never a partial one.
//
// Names of rings are at most 28 characters: where no futex exists, shmkit
// derives "<name>.1" for the producer's wake-ups.
class SHMKIT_EXPORT Ring {
 public:
  static constexpr std::size_t k_default_capacity = 64 * 1024;

  // `capacity` is rounded up to a power of two (at least 256 bytes); the
  // largest message is capacity() - 8 bytes.
  static Ring create(std::string_view name, RingRole role,
                     std::size_t capacity = k_default_capacity, const WaitOptions& wait = {},
                     const Options& options = {});
  static Ring create(std::string_view name, RingRole role, std::size_t capacity,
                     const WaitOptions& wait, const Options& options, std::error_code& ec) noexcept;
  static Ring open(std::string_view name, RingRole role, const WaitOptions& wait = {},
                   const Options& options = {});
  static Ring open(std::string_view name, RingRole role, const WaitOptions& wait,
                   const Options& options, std::error_code& ec) noexcept;
  static Ring open_or_create(std::string_view name, RingRole role,
                             std::size_t capacity = k_default_capacity,
                             const WaitOptions& wait = {}, const Options& options = {});
  static Ring open_or_create(std::string_view name, RingRole role, std::size_t capacity,
                             const WaitOptions& wait, const Options& options,
                             std::error_code& ec) noexcept;
  static bool remove(std::string_view name, const Options& options = {});
  static bool remove(std::string_view name, const Options& options, std::error_code& ec) noexcept;

  Ring() noexcept;
  Ring(Ring&&) noexcept;
  Ring& operator=(Ring&&) noexcept;
  ~Ring();

  // ---- producer: zero-copy --------------------------------------------------
  // A span of exactly `size` writable bytes inside the ring; empty at the
  // deadline. Nothing is visible to the consumer before commit().
  ByteSpan reserve_until(std::size_t size, Deadline deadline);
  ByteSpan reserve_until(std::size_t size, Deadline deadline, std::error_code& ec) noexcept;
  ByteSpan reserve(std::size_t size) { return reserve_until(size, k_forever); }
  ByteSpan try_reserve(std::size_t size) { return reserve_until(size, Deadline()); }
  template <typename Rep, typename Period>
  ByteSpan reserve_for(std::size_t size, const std::chrono::duration<Rep, Period>& timeout) {
    return reserve_until(size, deadline_after(timeout));
  }
  // Publishes the first `used` bytes of the reservation as one message.
  void commit(std::size_t used);
  void commit();  // all of it
  // Like commit(), but the message stays invisible until flush(): commit a
  // batch, then publish it with one store and at most one wake-up.
  void commit_deferred(std::size_t used);
  void flush() noexcept;

  // ---- producer: copying ----------------------------------------------------
  bool send_until(const void* data, std::size_t size, Deadline deadline);
  bool send_until(const void* data, std::size_t size, Deadline deadline,
                  std::error_code& ec) noexcept;
  void send(const void* data, std::size_t size) { send_until(data, size, k_forever); }
  bool try_send(const void* data, std::size_t size) { return send_until(data, size, Deadline()); }
  template <typename Rep, typename Period>
  bool send_for(const void* data, std::size_t size,
                const std::chrono::duration<Rep, Period>& timeout) {
    return send_until(data, size, deadline_after(timeout));
  }
  // Sends messages[0..count) and publishes them together; returns how many
  // were sent before the deadline.
  std::size_t send_batch(const ConstByteSpan* messages, std::size_t count,
                         Deadline deadline = k_forever);

  // ---- consumer: zero-copy --------------------------------------------------
  // The next message, valid until release(); empty at the deadline. Peeking
  // again before release() gives the message after it (a batch).
  ConstByteSpan peek_until(Deadline deadline);
  ConstByteSpan peek_until(Deadline deadline, std::error_code& ec) noexcept;
  ConstByteSpan peek() { return peek_until(k_forever); }
  ConstByteSpan try_peek() { return peek_until(Deadline()); }
  template <typename Rep, typename Period>
  ConstByteSpan peek_for(const std::chrono::duration<Rep, Period>& timeout) {
    return peek_until(deadline_after(timeout));
  }
  // Frees every message peeked so far, making room for the producer.
  void release() noexcept;

  // ---- consumer: copying ----------------------------------------------------
  // Copies the next message into `buffer` and returns its size; nullopt at
  // the deadline. A message larger than `capacity` stays in the ring and the
  // call fails with errc::message_too_large.
  std::optional<std::size_t> receive_until(void* buffer, std::size_t capacity, Deadline deadline);
  std::optional<std::size_t> receive_until(void* buffer, std::size_t capacity, Deadline deadline,
                                           std::error_code& ec) noexcept;
  std::size_t receive(void* buffer, std::size_t capacity) {
    return *receive_until(buffer, capacity, k_forever);
  }
  std::optional<std::size_t> try_receive(void* buffer, std::size_t capacity) {
    return receive_until(buffer, capacity, Deadline());
  }
  template <typename Rep, typename Period>
  std::optional<std::size_t> receive_for(void* buffer, std::size_t capacity,
                                         const std::chrono::duration<Rep, Period>& timeout) {
    return receive_until(buffer, capacity, deadline_after(timeout));
  }

  bool is_open() const noexcept { return endpoint_ != nullptr; }
  RingRole role() const noexcept;
  std::size_t capacity() const noexcept;
  std::size_t max_message_size() const noexcept;
  const std::string& name() const noexcept;

 private:
  friend struct detail::ChannelAccess;  // a Channel is two rings
  explicit Ring(std::unique_ptr<detail::RingEndpoint> endpoint) noexcept;
  std::unique_ptr<detail::RingEndpoint> endpoint_;
};

SHMKIT_END_NAMESPACE
