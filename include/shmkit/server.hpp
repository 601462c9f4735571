// A named server that accepts many clients, each on a Channel of its own.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/channel.hpp>
#include <shmkit/client.hpp>
#include <shmkit/deadline.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>
#include <shmkit/ring.hpp>
#include <shmkit/wait_options.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
class ServerImpl;
struct WaitAccess;
}  // namespace detail

// A server's options: who may connect (ObjectOptions: permissions,
// trusted_owners, ...), the size of every connection and how accept() and
// the server's ends of its connections wait.
struct ServerOptions : ObjectOptions {
  std::size_t capacity = k_default_ring_capacity;  // of each direction of a connection
  WaitOptions wait;
};

// Server server = Server::create("spooler");
// Channel connection = server.accept();   // a client's connection
//
// One live process serves a name. Each client gets a Channel of its own,
// named "<server>.<id>" (at most 30 characters whatever the server's name,
// the id in base 36; ids are not reused before the whole id space has been
// used, at least 46656 connections). A client that dies is noticed on its
// connection (errc::peer_gone once its messages are read); closing the
// server's end of a connection frees it. A server that dies is noticed by
// its clients the same way.
//
// Restart recipe (a test runs it, tests/portable/test_server.cpp): restart
// the server process and call Server::create again. It takes the dead
// server's name over, frees the connections the dead one had accepted and
// the requests of clients that died, and accepts the requests live clients
// made meanwhile. Clients see errc::peer_gone on their old connections and
// connect again; connect() waits for the restarted server.
//
// Threads: accept() may run from one thread at a time per Server; each
// accepted Channel is independent (one thread sends and one receives at a
// time). Moving, assigning and destroying must not overlap other calls.
// Connections may outlive their Server handle. Fork: a Server inherited by a
// forked child may only be destroyed there (the server is the parent's).
class SHMKIT_EXPORT Server {
 public:
  static constexpr std::size_t k_max_connections = 64;

  // Starts serving `name`. A dead server's name is taken over (see the
  // restart recipe). Errors: errc::invalid_name, errc::role_taken (a live
  // server holds the name), errc::invalid_size (no ring has
  // options.capacity), errc::untrusted_owner, errc::insecure_permissions,
  // errc::wrong_kind, errc::incompatible_layout, OS errors.
  [[nodiscard]] static Server create(std::string_view name, const ServerOptions& options = {});
  [[nodiscard]] static Server create(std::string_view name, const ServerOptions& options,
                                     std::error_code& ec) noexcept;
  // Frees what a dead server left under `name`: its registry and the
  // channels of the connections it had. False if there was nothing. Errors:
  // errc::invalid_name, errc::role_taken (a live server holds the name:
  // nothing is removed), errc::wrong_kind, errc::untrusted_owner.
  static bool remove(std::string_view name, const ServerOptions& options = {});
  static bool remove(std::string_view name, const ServerOptions& options,
                     std::error_code& ec) noexcept;
  // Whether a live server holds `name`. Errors: errc::invalid_name,
  // errc::wrong_kind, errc::untrusted_owner.
  [[nodiscard]] static bool exists(std::string_view name, const ServerOptions& options = {});
  [[nodiscard]] static bool exists(std::string_view name, const ServerOptions& options,
                                   std::error_code& ec) noexcept;

  Server() noexcept = default;
  Server(Server&& other) noexcept;
  Server& operator=(Server&& other) noexcept;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Stops serving: clients waiting to be accepted stop waiting for this
  // server, and the name is freed. Open connections keep working.
  ~Server();

  // The next client's connection. accept() waits for ever; the other forms
  // return an empty Channel (is_open() false) when no client came in time.
  // Errors: errc::invalid_state (an empty Server handle).
  Channel accept() { return accept_at(k_forever, nullptr); }
  Channel accept(std::error_code& ec) noexcept { return accept_at(k_forever, &ec); }
  [[nodiscard]] Channel try_accept() { return accept_at(Deadline(), nullptr); }
  [[nodiscard]] Channel try_accept(std::error_code& ec) noexcept {
    return accept_at(Deadline(), &ec);
  }
  template <typename Rep, typename Period>
  [[nodiscard]] Channel accept_for(const std::chrono::duration<Rep, Period>& timeout) {
    return accept_at(deadline_after(timeout), nullptr);
  }
  template <typename Rep, typename Period>
  [[nodiscard]] Channel accept_for(const std::chrono::duration<Rep, Period>& timeout,
                                   std::error_code& ec) noexcept {
    return accept_at(deadline_after(timeout), &ec);
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] Channel accept_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return accept_at(to_deadline(deadline), nullptr);
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] Channel accept_until(const std::chrono::time_point<Clock, Duration>& deadline,
                                     std::error_code& ec) noexcept {
    return accept_at(to_deadline(deadline), &ec);
  }

  // The one exported accept: Deadline() = do not wait, k_forever = for ever.
  // Throws shmkit::Error when `ec` is null, else never throws.
  [[nodiscard]] Channel accept_at(Deadline deadline, std::error_code* ec);

  bool is_open() const noexcept { return impl_ != nullptr; }
  // Empty for an empty handle.
  const std::string& name() const noexcept;
  // Each direction's ring capacity of every connection, in bytes; 0 for an
  // empty handle.
  std::size_t capacity() const noexcept;

 private:
  friend struct detail::WaitAccess;     // a WaitSet waits for pending connections
  detail::ServerImpl* impl_ = nullptr;  // owned; a raw pointer keeps std:: types out of the ABI
};

SHMKIT_END_NAMESPACE
