// The client's end of a connection to a Server.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/channel.hpp>
#include <shmkit/deadline.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>
#include <shmkit/wait_options.hpp>

#include <chrono>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

// A client's options: who it trusts (ObjectOptions) and how its connection
// waits. The connection's ring capacity is the server's
// (ServerOptions::capacity).
struct ClientOptions : ObjectOptions {
  WaitOptions wait;
};

// Client client = Client::connect("spooler");
// client.send("hello", 5);
//
// A Client is a Channel: the client's end of one connection, sending on one
// ring and receiving on the other. It notices the server's death or close
// as errc::peer_gone, after it has received everything the server sent.
// Closing it (destroying, assigning over it) ends the connection: the server
// sees errc::peer_gone on its end and frees the connection when it closes
// that end.
//
// Connecting waits (per its form) for a live server to hold the name and for
// it to accept(); when all its connection slots are held it fails at once
// with errc::overflow. A server that is not running yet, or that died and has
// not been restarted, is waited for, never errc::peer_gone: a connection
// request survives a server's restart (a killed server's successor accepts
// it; after a clean stop the request is made again to the next server). The forms that may give up
// return an empty Client (is_open() false) when they do; connect() itself waits for ever.
//
// Restart recipe (a test runs it, tests/portable/test_server.cpp):
//   for (;;) {
//     Client client = Client::connect("spooler");
//     ... talk; on errc::peer_gone the server died or closed ...
//   }                      // the next connect() waits for the restarted server
// A client process that is killed needs nothing more: the server sees
// errc::peer_gone on its connection, and a restarted client just connects.
//
// Threads: one thread sends and one receives at a time on one Client, as
// for a Channel; connecting from several threads at once is fine (each gets
// its own connection). Fork: a Client inherited by a forked child may only
// be destroyed there; the child connects again.
//
// Errors of every connect form: errc::invalid_name, errc::overflow (all
// Server::k_max_connections slots are held), std::errc::connection_refused
// (the server could not open the connection, or another process rewrote the
// request), errc::untrusted_owner, errc::wrong_kind, errc::invalid_size (the
// server asks for a capacity no ring can have), OS errors.
class SHMKIT_EXPORT Client : public Channel {
 public:
  // Waits for ever.
  [[nodiscard]] static Client connect(std::string_view server, const ClientOptions& options = {}) {
    return connect_at(server, k_forever, options, nullptr);
  }
  [[nodiscard]] static Client connect(std::string_view server, const ClientOptions& options,
                                      std::error_code& ec) noexcept {
    return connect_at(server, k_forever, options, &ec);
  }
  // Does not wait for a server to start nor for a slot: empty unless a live
  // server holds the name and has a free slot. The server's answer is still
  // awaited, for at most ObjectOptions::open_timeout.
  [[nodiscard]] static Client try_connect(std::string_view server,
                                          const ClientOptions& options = {}) {
    return connect_at(server, Deadline(), options, nullptr);
  }
  [[nodiscard]] static Client try_connect(std::string_view server, const ClientOptions& options,
                                          std::error_code& ec) noexcept {
    return connect_at(server, Deadline(), options, &ec);
  }
  // Empty if not connected by then.
  template <typename Rep, typename Period>
  [[nodiscard]] static Client connect_for(std::string_view server,
                                          const std::chrono::duration<Rep, Period>& timeout,
                                          const ClientOptions& options = {}) {
    return connect_at(server, deadline_after(timeout), options, nullptr);
  }
  template <typename Rep, typename Period>
  [[nodiscard]] static Client connect_for(std::string_view server,
                                          const std::chrono::duration<Rep, Period>& timeout,
                                          const ClientOptions& options,
                                          std::error_code& ec) noexcept {
    return connect_at(server, deadline_after(timeout), options, &ec);
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] static Client connect_until(
      std::string_view server, const std::chrono::time_point<Clock, Duration>& deadline,
      const ClientOptions& options = {}) {
    return connect_at(server, to_deadline(deadline), options, nullptr);
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] static Client connect_until(
      std::string_view server, const std::chrono::time_point<Clock, Duration>& deadline,
      const ClientOptions& options, std::error_code& ec) noexcept {
    return connect_at(server, to_deadline(deadline), options, &ec);
  }

  // The one exported connect: Deadline() = do not wait, k_forever = for
  // ever. Throws shmkit::Error when `ec` is null, else never throws.
  [[nodiscard]] static Client connect_at(std::string_view server, Deadline deadline,
                                         const ClientOptions& options, std::error_code* ec);

  Client() noexcept = default;
  Client(Client&&) noexcept = default;
  Client& operator=(Client&&) noexcept = default;
  ~Client() = default;

 private:
  explicit Client(Channel&& channel) noexcept : Channel(std::move(channel)) {}
};

SHMKIT_END_NAMESPACE
