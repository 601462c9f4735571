// A duplex connection: two rings ("two shared memory pools") in one named
// segment, one per direction.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/export.hpp>
#include <shmkit/options.hpp>
#include <shmkit/ring.hpp>
#include <shmkit/wait_options.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
struct ChannelAccess;
}

// The creating end and the opening end each send on one ring and receive on
// the other. Either end notices the other's death or close as
// errc::peer_gone, after it has received everything the other committed.
// Names are at most 28 characters.
class SHMKIT_EXPORT Channel {
 public:
  static Channel create(std::string_view name, std::size_t capacity = Ring::k_default_capacity,
                        const WaitOptions& wait = {}, const Options& options = {});
  static Channel create(std::string_view name, std::size_t capacity, const WaitOptions& wait,
                        const Options& options, std::error_code& ec) noexcept;
  static Channel open(std::string_view name, const WaitOptions& wait = {},
                      const Options& options = {});
  static Channel open(std::string_view name, const WaitOptions& wait, const Options& options,
                      std::error_code& ec) noexcept;
  static bool remove(std::string_view name, const Options& options = {});
  static bool remove(std::string_view name, const Options& options, std::error_code& ec) noexcept;

  Channel() noexcept;
  Channel(Channel&&) noexcept;
  Channel& operator=(Channel&&) noexcept;
  ~Channel();

  // This end's sending ring (its producer) and receiving ring (its
  // consumer), for zero-copy reserve/commit and peek/release.
  Ring& outbound() noexcept { return out_; }
  Ring& inbound() noexcept { return in_; }

  void send(const void* data, std::size_t size) { out_.send(data, size); }
  bool try_send(const void* data, std::size_t size) { return out_.try_send(data, size); }
  template <typename Rep, typename Period>
  bool send_for(const void* data, std::size_t size,
                const std::chrono::duration<Rep, Period>& timeout) {
    return out_.send_for(data, size, timeout);
  }
  bool send_until(const void* data, std::size_t size, Deadline deadline,
                  std::error_code& ec) noexcept {
    return out_.send_until(data, size, deadline, ec);
  }

  std::size_t receive(void* buffer, std::size_t capacity) { return in_.receive(buffer, capacity); }
  std::optional<std::size_t> try_receive(void* buffer, std::size_t capacity) {
    return in_.try_receive(buffer, capacity);
  }
  template <typename Rep, typename Period>
  std::optional<std::size_t> receive_for(void* buffer, std::size_t capacity,
                                         const std::chrono::duration<Rep, Period>& timeout) {
    return in_.receive_for(buffer, capacity, timeout);
  }
  std::optional<std::size_t> receive_until(void* buffer, std::size_t capacity, Deadline deadline,
                                           std::error_code& ec) noexcept {
    return in_.receive_until(buffer, capacity, deadline, ec);
  }

  bool is_open() const noexcept { return out_.is_open(); }
  const std::string& name() const noexcept { return out_.name(); }

 private:
  friend struct detail::ChannelAccess;

  // Runs when the channel closes, after both rings (a server uses it to free
  // the connection). Declared first, so destroyed last.
  std::shared_ptr<void> on_close_;
  Ring out_;
  Ring in_;
};

SHMKIT_END_NAMESPACE
