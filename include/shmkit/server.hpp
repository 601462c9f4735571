// A named server that accepts many clients, each on a Channel of its own.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/channel.hpp>
#include <shmkit/deadline.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>
#include <shmkit/ring.hpp>
#include <shmkit/wait_options.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
class ServerCore;
}

struct ConnectionOptions {
  std::size_t capacity = k_default_ring_capacity;  // of each direction
  WaitOptions wait;
};

// Server server("spooler");
// Channel connection = server.accept(std::chrono::seconds(5));
//
// Each client gets a channel "<server>.<id>". A client that dies is noticed
// on its connection (errc::peer_gone once its messages are read); closing
// the server's end of a connection frees it. A server that dies is noticed by
// its clients the same way. Starting a server under the name of one that died
// cleans up what the dead one left; starting one while another lives is
// errc::role_taken. Server names are at most 21 characters.
class SHMKIT_EXPORT Server {
 public:
  static constexpr std::size_t k_max_connections = 64;

  explicit Server(std::string_view name, const ConnectionOptions& connections = {},
                  const Options& options = {});
  static Server start(std::string_view name, const ConnectionOptions& connections,
                      const Options& options, std::error_code& ec) noexcept;

  Server() noexcept;
  Server(Server&&) noexcept;
  Server& operator=(Server&&) noexcept;
  ~Server();

  // The next client's connection; an empty Channel at the deadline.
  Channel accept_until(Deadline deadline);
  Channel accept_until(Deadline deadline, std::error_code& ec) noexcept;
  Channel accept() { return accept_until(k_forever); }
  template <typename Rep, typename Period>
  Channel accept(const std::chrono::duration<Rep, Period>& timeout) {
    return accept_until(deadline_after(timeout));
  }

  bool is_open() const noexcept { return core_ != nullptr; }
  const std::string& name() const noexcept;

 private:
  std::shared_ptr<detail::ServerCore> core_;
};

class SHMKIT_EXPORT Client {
 public:
  // Connects to the server called `server`, waiting up to the deadline for
  // it to exist and to accept. Throws on failure, std::errc::timed_out at the
  // deadline, errc::peer_gone if the server is not running.
  static Channel connect_until(std::string_view server, Deadline deadline,
                               const ConnectionOptions& connection = {},
                               const Options& options = {});
  static Channel connect_until(std::string_view server, Deadline deadline,
                               const ConnectionOptions& connection, const Options& options,
                               std::error_code& ec) noexcept;
  template <typename Rep, typename Period>
  static Channel connect(std::string_view server, const std::chrono::duration<Rep, Period>& timeout,
                         const ConnectionOptions& connection = {}, const Options& options = {}) {
    return connect_until(server, deadline_after(timeout), connection, options);
  }
};

SHMKIT_END_NAMESPACE
