// Channel and Server/Client between real processes, including crashes on
// either side and a server restarted under the same name.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"
#include "messaging/ring_core.hpp"
#include "segment/segment_header.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
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

// args: server. Runs a server that never accepts, then waits to be killed.
SHMKIT_CHILD_ROLE(server_idle) {
  Server server(args.at(0));
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

  TEST_CASE(
      "a starting server accepts the requests of live clients and frees only what the dead left") {
    // Clients use a registry as soon as it is published, before its server
    // has claimed it or cleaned up after a predecessor. The starting server
    // used to free every held slot: a live client's channel was removed
    // under it ("could not open the connection's channel"), or its slot
    // was freed before it published its request, which then was never
    // accepted. Here those slots are written by hand into a dead server's
    // registry, so that the restarted server sees them, every time.
    // Win32: the registry's wake-up semaphores die with the server, as only
    // a raw mapping keeps its section alive here (a real client keeps both);
    // the protocol is the same code on every platform.
    if (native_backend() == Backend::win32) return;
    test::NameGuard guard(test::unique_name("sr"));
    auto crashed = test::Child::spawn("server_idle", {guard.name()});
    Options raw;
    raw.raw = true;
    // The server word is the first of the state, after the header and the
    // 8-byte sync preamble; the slots ({client, ticket}) follow 32 bytes in.
    const std::size_t state_offset = detail::k_header_size + 8;
    const std::size_t slots_offset = state_offset + 32;
    auto read_word = [](const NamedSharedMemory& shm, std::size_t offset) {
      std::uint64_t word = 0;
      std::memcpy(&word, static_cast<const char*>(shm.data()) + offset, sizeof word);
      return word;
    };
    NamedSharedMemory bytes;
    REQUIRE(test::eventually(
        [&] {
          std::error_code ec;
          bytes = NamedSharedMemory::open(guard.name(), raw, ec);
          return !ec && bytes.size() >= slots_offset + 16 * Server::k_max_connections &&
                 read_word(bytes, state_offset) > detail::k_endpoint_closed;
        },
        std::chrono::seconds(60)));
    const std::uint64_t dead = read_word(bytes, state_offset);  // the server, once killed
    crashed.kill();
    crashed.wait();

    char* slots = static_cast<char*>(bytes.data()) + slots_offset;
    auto write_slot = [&](int i, std::uint64_t client, std::uint64_t ticket) {
      std::memcpy(slots + 16 * i, &client, sizeof client);
      std::memcpy(slots + 16 * i + 8, &ticket, sizeof ticket);
    };
    auto slot_word = [&](int i, int word) {
      return read_word(bytes, slots_offset + 16 * i + 8 * word);
    };
    auto ticket = [](std::uint32_t id, std::uint32_t state) {
      return (std::uint64_t{id} << 32) | state;  // states: 2 requested, 3 accepted
    };
    auto channel_for = [&](std::uint32_t id) {
      char suffix[16];
      std::snprintf(suffix, sizeof suffix, ".%06x", static_cast<unsigned>(id));
      guard.add(guard.name() + suffix);
      return guard.name() + suffix;
    };
    const std::uint64_t self = detail::pack_slot(detail::current_process());
    // Slot 0: this live process's request, published.
    Channel waiting = Channel::create(channel_for(0x10), 4096);
    write_slot(0, self, ticket(0x10, 2));
    // Slot 1: this live process has claimed it and not yet published.
    write_slot(1, self, 0);
    // Slot 2: a connection the dead server had accepted.
    Channel accepted_by_dead = Channel::create(channel_for(0x11), 4096);
    write_slot(2, self, ticket(0x11, 3));
    // Slot 3: a request of a client that died waiting.
    Channel orphaned = Channel::create(channel_for(0x12), 4096);
    write_slot(3, dead, ticket(0x12, 2));

    Server restarted(guard.name());
    // The live client's slots are untouched and its channel is still there.
    CHECK(slot_word(0, 0) == self);
    CHECK(slot_word(0, 1) == ticket(0x10, 2));
    CHECK(NamedSharedMemory::exists(waiting.name()));
    CHECK(slot_word(1, 0) == self);
    // What the dead left is gone.
    CHECK(slot_word(2, 0) == 0);
    CHECK(slot_word(3, 0) == 0);
    if (native_backend() != Backend::win32) {
      CHECK_FALSE(NamedSharedMemory::exists(accepted_by_dead.name()));
      CHECK_FALSE(NamedSharedMemory::exists(orphaned.name()));
    }
    // And the live request is accepted: the channel carries messages.
    Channel connection = restarted.accept(std::chrono::seconds(30));
    REQUIRE(connection.is_open());
    CHECK(connection.name() == waiting.name());
    CHECK(slot_word(0, 1) == ticket(0x10, 3));
    send_text(waiting, "made it");
    CHECK(receive_text(connection) == "made it");
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
