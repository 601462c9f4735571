// Channel and Server/Client between real processes, including crashes on
// either side and a server restarted under the same name.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"
#include "common/segment_header.hpp"

#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace shmkit;

namespace {

// Usable in child processes too, where doctest's assertions are not: a
// timeout becomes an exception.
std::string receive_text(Channel& channel) {
  char buffer[256];
  const auto size = channel.receive_for(buffer, sizeof buffer, std::chrono::seconds(30));
  if (!size) throw std::runtime_error("nothing received within 30 s");
  return std::string(buffer, *size);
}

void send_text(Channel& channel, const std::string& text) {
  channel.send(text.data(), text.size());
}

}  // namespace

// args: channel. Answers each message with "echo: <message>" until "bye".
SHMKIT_CHILD_ROLE(channel_echo) {
  auto channel = Channel::open(args.at(0));
  for (;;) {
    const std::string text = receive_text(channel);
    if (text == "bye") return 0;
    send_text(channel, "echo: " + text);
  }
}

// args: server id count. Connects, sends `count` greetings, reads the replies.
SHMKIT_CHILD_ROLE(server_client) {
  auto channel = Client::connect(args.at(0), std::chrono::seconds(30));
  for (int i = 0; i < std::stoi(args.at(2)); ++i) {
    send_text(channel, args.at(1) + ":" + std::to_string(i));
    if (receive_text(channel) != "ok " + args.at(1) + ":" + std::to_string(i)) return 3;
  }
  return 0;
}

// args: server. Connects, sends one message, then waits to be killed.
SHMKIT_CHILD_ROLE(server_client_dies) {
  auto channel = Client::connect(args.at(0), std::chrono::seconds(30));
  send_text(channel, "last words");
  std::this_thread::sleep_for(std::chrono::seconds(120));
  return 1;
}

// args: server. Runs a server that accepts one client, then waits to be killed.
SHMKIT_CHILD_ROLE(server_dies) {
  Server server(args.at(0));
  Channel connection = server.accept(std::chrono::seconds(30));
  if (!connection.is_open()) return 3;
  std::this_thread::sleep_for(std::chrono::seconds(120));
  return 1;
}

TEST_SUITE("server") {
  TEST_CASE("accept returns by its deadline whatever the registry's slots hold") {
    test::NameGuard guard(test::unique_name("srvg"));
    Server server(guard.name());
    Options raw;
    raw.raw = true;
    auto bytes = NamedSharedMemory::open(guard.name(), raw);
    // The slots ({client, ticket} words) start 32 bytes into the server's
    // state, which follows the segment header and the 8-byte sync preamble.
    char* slots = static_cast<char*>(bytes.data()) + detail::k_header_size + 8 + 32;
    auto write_slot = [&](int i, std::uint64_t client, std::uint64_t ticket) {
      std::memcpy(slots + 16 * i, &client, sizeof client);
      std::memcpy(slots + 16 * i + 8, &ticket, sizeof ticket);
    };
    auto accept_returns_in_time = [&] {
      const auto start = std::chrono::steady_clock::now();
      Channel channel = server.accept(std::chrono::milliseconds(100));
      const auto took = std::chrono::steady_clock::now() - start;
      CHECK_FALSE(channel.is_open());
      CHECK(took < std::chrono::seconds(5));
    };
    // "Requested" with nobody holding the slot: accept() used to spin on it
    // at 100% CPU for ever.
    write_slot(0, 0, (std::uint64_t{5} << 32) | 2);
    accept_returns_in_time();
    // Every slot full of random words.
    std::mt19937_64 random(12345);
    for (int round = 0; round < 4; ++round) {
      for (int i = 0; i < 64; ++i) {
        write_slot(i, round % 2 ? 0 : random(), (random() & ~std::uint64_t{7}) | (random() % 5));
      }
      accept_returns_in_time();
    }
  }

  TEST_CASE("a channel carries messages both ways between two processes") {
    test::NameGuard guard(test::unique_name("ch"));
    auto channel = Channel::create(guard.name(), 4096);
    auto echo = test::Child::spawn("channel_echo", {guard.name()});
    for (int i = 0; i < 100; ++i) {
      send_text(channel, "hello " + std::to_string(i));
      CHECK(receive_text(channel) == "echo: hello " + std::to_string(i));
    }
    send_text(channel, "bye");
    CHECK(echo.wait().code == 0);
    // The other end closed: receiving now reports it.
    std::error_code ec;
    char buffer[16];
    CHECK_FALSE(
        channel.receive_until(buffer, sizeof buffer, deadline_after(std::chrono::seconds(30)), ec));
    CHECK(ec == errc::peer_gone);
  }

  TEST_CASE("a server serves several client processes at once") {
    test::NameGuard guard(test::unique_name("sv"));
    Server server(guard.name());
    std::vector<test::Child> clients;
    for (int i = 0; i < 4; ++i) {
      clients.push_back(
          test::Child::spawn("server_client", {guard.name(), "c" + std::to_string(i), "50"}));
    }
    std::vector<Channel> connections;
    for (int i = 0; i < 4; ++i) {
      Channel connection = server.accept(std::chrono::seconds(30));
      REQUIRE(connection.is_open());
      connections.push_back(std::move(connection));
    }
    // Serve all four, round-robin, until each has said its 50 things.
    int served = 0;
    while (served < 4 * 50) {
      for (Channel& connection : connections) {
        char buffer[64];
        std::error_code ec;  // peer_gone once a client has said all and left
        if (auto size = connection.receive_until(buffer, sizeof buffer, Deadline(), ec)) {
          const std::string reply = "ok " + std::string(buffer, *size);
          connection.send(reply.data(), reply.size());
          ++served;
        }
      }
    }
    for (auto& client : clients) CHECK(client.wait().code == 0);
  }

  TEST_CASE("a client that dies is noticed by the server, which frees its connection") {
    test::NameGuard guard(test::unique_name("sk"));
    Server server(guard.name());
    auto client = test::Child::spawn("server_client_dies", {guard.name()});
    Channel connection = server.accept(std::chrono::seconds(30));
    REQUIRE(connection.is_open());
    CHECK(receive_text(connection) == "last words");
    const std::string channel_name = connection.name();
    client.kill();
    client.wait();
    std::error_code ec;
    char buffer[16];
    CHECK_FALSE(connection.receive_until(buffer, sizeof buffer,
                                         deadline_after(std::chrono::seconds(30)), ec));
    CHECK(ec == errc::peer_gone);
    connection = Channel();  // closing frees the connection
    if (native_backend() != Backend::win32) CHECK_FALSE(NamedSharedMemory::exists(channel_name));
  }

  TEST_CASE("a server that dies is noticed by its client; a new server takes the name over") {
    test::NameGuard guard(test::unique_name("sd"));
    auto server_process = test::Child::spawn("server_dies", {guard.name()});
    Channel channel = Client::connect(guard.name(), std::chrono::seconds(30));
    REQUIRE(channel.is_open());
    const std::string stale_channel = channel.name();
    server_process.kill();
    server_process.wait();
    std::error_code ec;
    char buffer[16];
    CHECK_FALSE(
        channel.receive_until(buffer, sizeof buffer, deadline_after(std::chrono::seconds(30)), ec));
    CHECK(ec == errc::peer_gone);
    // Connecting to the dead server fails at once instead of hanging.
    Client::connect_until(guard.name(), deadline_after(std::chrono::seconds(30)), {}, {}, ec);
    if (native_backend() != Backend::win32) CHECK(ec == errc::peer_gone);

    // Restart under the same name: the dead server's leftovers are cleaned.
    Server restarted(guard.name());
    if (native_backend() != Backend::win32) CHECK_FALSE(NamedSharedMemory::exists(stale_channel));
    std::thread client([&] {
      Channel fresh = Client::connect(guard.name(), std::chrono::seconds(30));
      send_text(fresh, "hello again");
    });
    Channel connection = restarted.accept(std::chrono::seconds(30));
    REQUIRE(connection.is_open());
    CHECK(receive_text(connection) == "hello again");
    client.join();
    Server second;
    Server::start(guard.name(), {}, {}, ec);
    CHECK(ec == errc::role_taken);
  }

  TEST_CASE("accept and connect time out cleanly") {
    test::NameGuard guard(test::unique_name("st"));
    std::error_code ec;
    Client::connect_until(guard.name(), deadline_after(std::chrono::milliseconds(50)), {}, {}, ec);
    CHECK(ec == std::errc::timed_out);
    Server server(guard.name());
    CHECK_FALSE(server.accept(std::chrono::milliseconds(20)).is_open());
    Server::start(std::string(22, 's'), {}, {}, ec);
    CHECK(ec == errc::invalid_name);
  }
}
