// A duplex connection: two rings in one named segment, one per direction.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/export.hpp>
#include <shmkit/ring.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
struct ChannelAccess;
struct ChannelCloser;
}  // namespace detail

// A channel has two ends, each held by one process at a time: the creator's
// (it sends on ring 0) and the opener's (it sends on ring 1). Each end sends
// on its outbound() ring and receives on its inbound() ring. create() takes
// the creator's end; open() takes the opener's end, or the creator's end if
// only that one is free (a restarted creator); open_or_create() creates the
// channel and takes the creator's end, or opens it as open() does, taking
// the creator's end first when it is free. Taking an end a live process
// holds is errc::role_taken.
//
// Restarts (docs/messaging.md has the recipe): either end may die and come
// back with open_or_create() (or open()). The survivor's receive gets
// errc::peer_gone once it has everything the dead end sent; it then calls
// wait_for_peer() and goes on when the new end attaches. Every attach starts
// a new generation: generation() is this end's, peer_generation() the other
// end's latest, message_generation() the sender's generation of the message
// just received - messages a dead end sent before it died keep its older
// generation. The name is removed when the last end closes.
//
// Blocking calls come in four forms (op, try_op, op_for, op_until), each
// with a noexcept twin taking std::error_code&; as RingProducer::send and
// RingConsumer::receive. Zero-length messages are allowed (receive returns
// 0). Threads: the sending calls (send*, outbound()) touch only the
// outbound ring and the receiving calls (receive*, inbound()) only the
// inbound one, so one thread may send while another receives on the same
// handle; two threads may not both send, or both receive, and nothing may run
// concurrently with the factories, moves, close() or wait_for_peer().
// Fork: in a forked child, do not use the parent's handle; open a new one.
// Names: 1-k_max_name_length characters.
class SHMKIT_EXPORT Channel {
 public:
  static constexpr std::size_t k_default_capacity = k_default_ring_capacity;

  // `capacity` is each direction's (see RingProducer::create).
  // Errors: errc::invalid_name, errc::already_exists (create),
  // errc::not_found (open), errc::role_taken (both ends held),
  // errc::invalid_size, errc::size_mismatch, errc::wrong_kind,
  // errc::incompatible_layout, errc::corrupted, errc::untrusted_owner,
  // errc::insecure_permissions, OS errors.
  [[nodiscard]] static Channel create(std::string_view name,
                                      std::size_t capacity = k_default_ring_capacity,
                                      const ChannelOptions& options = {});
  [[nodiscard]] static Channel create(std::string_view name, std::size_t capacity,
                                      const ChannelOptions& options, std::error_code& ec) noexcept;
  [[nodiscard]] static Channel open(std::string_view name, const ChannelOptions& options = {});
  [[nodiscard]] static Channel open(std::string_view name, const ChannelOptions& options,
                                    std::error_code& ec) noexcept;
  [[nodiscard]] static Channel open_or_create(std::string_view name,
                                              std::size_t capacity = k_default_ring_capacity,
                                              const ChannelOptions& options = {});
  [[nodiscard]] static Channel open_or_create(std::string_view name, std::size_t capacity,
                                              const ChannelOptions& options,
                                              std::error_code& ec) noexcept;
  // False if there was nothing to remove. Errors: errc::invalid_name, OS errors.
  static bool remove(std::string_view name, const ChannelOptions& options = {});
  static bool remove(std::string_view name, const ChannelOptions& options,
                     std::error_code& ec) noexcept;
  // Errors: errc::invalid_name, OS errors.
  [[nodiscard]] static bool exists(std::string_view name, const ChannelOptions& options = {});
  [[nodiscard]] static bool exists(std::string_view name, const ChannelOptions& options,
                                   std::error_code& ec) noexcept;

  Channel() noexcept = default;  // empty: every operation is errc::invalid_state
  Channel(Channel&& other) noexcept;
  Channel& operator=(Channel&& other) noexcept;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel();
  void close() noexcept;

  // This end's sending ring and receiving ring, for zero-copy
  // reserve/commit and peek/release (empty handles on an empty Channel).
  RingProducer& outbound() noexcept { return out_; }
  RingConsumer& inbound() noexcept { return in_; }

  // ---- send: as RingProducer::send ----------------------------------------
  void send(const void* data, std::size_t size) { out_.send(data, size); }
  [[nodiscard]] bool try_send(const void* data, std::size_t size) {
    return out_.try_send(data, size);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool send_for(const void* data, std::size_t size,
                              const std::chrono::duration<Rep, Period>& timeout) {
    return out_.send_for(data, size, timeout);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool send_until(const void* data, std::size_t size,
                                const std::chrono::time_point<Clock, Duration>& deadline) {
    return out_.send_until(data, size, deadline);
  }
  void send(const void* data, std::size_t size, std::error_code& ec) noexcept {
    out_.send(data, size, ec);
  }
  [[nodiscard]] bool try_send(const void* data, std::size_t size, std::error_code& ec) noexcept {
    return out_.try_send(data, size, ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool send_for(const void* data, std::size_t size,
                              const std::chrono::duration<Rep, Period>& timeout,
                              std::error_code& ec) noexcept {
    return out_.send_for(data, size, timeout, ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool send_until(const void* data, std::size_t size,
                                const std::chrono::time_point<Clock, Duration>& deadline,
                                std::error_code& ec) noexcept {
    return out_.send_until(data, size, deadline, ec);
  }

  // ---- receive: as RingConsumer::receive ----------------------------------
  std::size_t receive(void* buffer, std::size_t capacity) { return in_.receive(buffer, capacity); }
  [[nodiscard]] std::optional<std::size_t> try_receive(void* buffer, std::size_t capacity) {
    return in_.try_receive(buffer, capacity);
  }
  template <class Rep, class Period>
  [[nodiscard]] std::optional<std::size_t> receive_for(
      void* buffer, std::size_t capacity, const std::chrono::duration<Rep, Period>& timeout) {
    return in_.receive_for(buffer, capacity, timeout);
  }
  template <class Clock, class Duration>
  [[nodiscard]] std::optional<std::size_t> receive_until(
      void* buffer, std::size_t capacity,
      const std::chrono::time_point<Clock, Duration>& deadline) {
    return in_.receive_until(buffer, capacity, deadline);
  }
  std::size_t receive(void* buffer, std::size_t capacity, std::error_code& ec) noexcept {
    return in_.receive(buffer, capacity, ec);
  }
  [[nodiscard]] std::optional<std::size_t> try_receive(void* buffer, std::size_t capacity,
                                                       std::error_code& ec) noexcept {
    return in_.try_receive(buffer, capacity, ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] std::optional<std::size_t> receive_for(
      void* buffer, std::size_t capacity, const std::chrono::duration<Rep, Period>& timeout,
      std::error_code& ec) noexcept {
    return in_.receive_for(buffer, capacity, timeout, ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] std::optional<std::size_t> receive_until(
      void* buffer, std::size_t capacity, const std::chrono::time_point<Clock, Duration>& deadline,
      std::error_code& ec) noexcept {
    return in_.receive_until(buffer, capacity, deadline, ec);
  }

  // ---- the peer ---------------------------------------------------------------
  // Waits until the other end is attached (both of its rings). Never
  // errc::peer_gone. Errors: errc::invalid_state (empty handle).
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

  // ---- state ------------------------------------------------------------------
  bool is_open() const noexcept { return out_.is_open(); }
  const std::string& name() const noexcept { return out_.name(); }
  std::size_t capacity() const noexcept { return out_.capacity(); }
  // This end's generation, the other end's latest, and the one that sent
  // the message last received (see "Restarts" above).
  std::uint32_t generation() const noexcept { return out_.generation(); }
  std::uint32_t peer_generation() const noexcept { return in_.peer_generation(); }
  std::uint32_t message_generation() const noexcept { return in_.message_generation(); }

 private:
  friend struct detail::ChannelAccess;

  bool wait_for_peer_at(Deadline deadline, std::error_code* ec);

  RingProducer out_;
  RingConsumer in_;
  // Runs when the channel closes, after both rings (a server uses it to free
  // the connection; the last end to close removes the name).
  detail::ChannelCloser* closer_ = nullptr;
};

SHMKIT_END_NAMESPACE
