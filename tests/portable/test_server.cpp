// Channel and Server/Client between real processes, including crashes on
// either side and a server restarted under the same name.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/joining_thread.hpp"
#include "../support/test_names.hpp"
#include "core/name_check.hpp"
#include "messaging/ring_core.hpp"
#include "messaging/server_registry.hpp"
#include "segment/segment_header.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
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
  auto channel = Client::connect_for(args.at(0), std::chrono::seconds(30));
  if (!channel.is_open()) return 2;
  for (int i = 0; i < std::stoi(args.at(2)); ++i) {
    send_text(channel, args.at(1) + ":" + std::to_string(i));
    if (receive_text(channel) != "ok " + args.at(1) + ":" + std::to_string(i)) return 3;
  }
  return 0;
}

// args: server. Connects, sends one message, then waits to be killed.
SHMKIT_CHILD_ROLE(server_client_dies) {
  auto channel = Client::connect(args.at(0));
  send_text(channel, "last words");
  std::this_thread::sleep_for(std::chrono::seconds(120));
  return 1;
}

// args: server. Runs a server that accepts one client, then waits to be killed.
SHMKIT_CHILD_ROLE(server_dies) {
  auto server = Server::create(args.at(0));
  Channel connection = server.accept_for(std::chrono::seconds(30));
  if (!connection.is_open()) return 3;
  std::this_thread::sleep_for(std::chrono::seconds(120));
  return 1;
}

// args: server. Runs a server that never accepts, then waits to be killed.
SHMKIT_CHILD_ROLE(server_idle) {
  auto server = Server::create(args.at(0));
  std::this_thread::sleep_for(std::chrono::seconds(120));
  return 1;
}

// args: server. Serves until killed: answers each message with "echo: <message>".
SHMKIT_CHILD_ROLE(echo_server) {
  auto server = Server::create(args.at(0));
  std::vector<Channel> connections;
  for (;;) {
    if (Channel connection = server.accept_for(std::chrono::milliseconds(5));
        connection.is_open()) {
      connections.push_back(std::move(connection));
    }
    for (Channel& connection : connections) {
      char buffer[256];
      std::error_code ec;  // peer_gone once a client left: nothing more comes
      if (auto size = connection.receive_until(buffer, sizeof buffer, Deadline(), ec)) {
        send_text(connection, "echo: " + std::string(buffer, *size));
      }
    }
  }
}

TEST_SUITE("server") {
  TEST_CASE("accept returns by its deadline whatever the registry's slots hold") {
    test::NameGuard guard(test::unique_name("srvg"));
    auto server = Server::create(guard.name());
    SegmentOptions raw;
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
      Channel channel = server.accept_for(std::chrono::milliseconds(100));
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
    auto server = Server::create(guard.name());
    std::vector<test::Child> clients;
    for (int i = 0; i < 4; ++i) {
      clients.push_back(
          test::Child::spawn("server_client", {guard.name(), "c" + std::to_string(i), "50"}));
    }
    std::vector<Channel> connections;
    for (int i = 0; i < 4; ++i) {
      Channel connection = server.accept_for(std::chrono::seconds(30));
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

  TEST_CASE(
      "restart recipe, client side: a killed client is noticed and freed; its restart connects") {
    test::NameGuard guard(test::unique_name("sk"));
    auto server = Server::create(guard.name());
    auto client = test::Child::spawn("server_client_dies", {guard.name()});
    Channel connection = server.accept_for(std::chrono::seconds(30));
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

    // The client process restarted: it just connects, and is served.
    auto restarted = test::Child::spawn("server_client", {guard.name(), "again", "3"});
    Channel fresh = server.accept_for(std::chrono::seconds(30));
    REQUIRE(fresh.is_open());
    for (int i = 0; i < 3; ++i) {
      const std::string text = receive_text(fresh);
      CHECK(text == "again:" + std::to_string(i));
      send_text(fresh, "ok " + text);
    }
    CHECK(restarted.wait().code == 0);
  }

  TEST_CASE("a server that dies is noticed by its client; a new server takes the name over") {
    test::NameGuard guard(test::unique_name("sd"));
    auto server_process = test::Child::spawn("server_dies", {guard.name()});
    Client channel = Client::connect_for(guard.name(), std::chrono::seconds(30));
    REQUIRE(channel.is_open());
    const std::string stale_channel = channel.name();
    server_process.kill();
    server_process.wait();
    std::error_code ec;
    char buffer[16];
    CHECK_FALSE(
        channel.receive_until(buffer, sizeof buffer, deadline_after(std::chrono::seconds(30)), ec));
    CHECK(ec == errc::peer_gone);
    // A dead server is waited for (it may be restarted), not peer_gone: it
    // was never this connection's peer.
    CHECK_FALSE(Server::exists(guard.name()));
    CHECK_FALSE(Client::connect_for(guard.name(), std::chrono::milliseconds(50), {}, ec).is_open());
    CHECK_FALSE(ec);
    CHECK_FALSE(Client::try_connect(guard.name(), {}, ec).is_open());
    CHECK_FALSE(ec);

    // Restart under the same name: the dead server's leftovers are cleaned.
    auto restarted = Server::create(guard.name());
    CHECK(Server::exists(guard.name()));
    if (native_backend() != Backend::win32) CHECK_FALSE(NamedSharedMemory::exists(stale_channel));
    test::JoiningThread client([&] {
      Client fresh = Client::connect_for(guard.name(), std::chrono::seconds(30));
      send_text(fresh, "hello again");
    });
    Channel connection = restarted.accept_for(std::chrono::seconds(30));
    REQUIRE(connection.is_open());
    CHECK(receive_text(connection) == "hello again");
    client.join();
    Server second = Server::create(guard.name(), {}, ec);
    CHECK(ec == errc::role_taken);
    CHECK_FALSE(second.is_open());
    CHECK_FALSE(Server::remove(guard.name(), {}, ec));
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
    SegmentOptions raw;
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
      const std::string name = detail::connection_name(guard.name(), id);
      guard.add(name);
      return name;
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

    auto restarted = Server::create(guard.name());
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
    Channel connection = restarted.accept_for(std::chrono::seconds(30));
    REQUIRE(connection.is_open());
    CHECK(connection.name() == waiting.name());
    CHECK(slot_word(0, 1) == ticket(0x10, 3));
    send_text(waiting, "made it");
    CHECK(receive_text(connection) == "made it");
  }

  TEST_CASE("restart recipe, server side: clients see peer_gone and reconnect to the restart") {
    test::NameGuard guard(test::unique_name("sx"));
    auto first = test::Child::spawn("echo_server", {guard.name()});
    Client client = Client::connect(guard.name());  // waits for the server to start
    send_text(client, "one");
    CHECK(receive_text(client) == "echo: one");
    const std::string old_connection = client.name();
    guard.add(old_connection);

    first.kill();
    (void)first.wait();
    std::error_code ec;
    char buffer[64];
    CHECK_FALSE(
        client.receive_until(buffer, sizeof buffer, deadline_after(std::chrono::seconds(30)), ec));
    CHECK(ec == errc::peer_gone);

    // The recipe: connect again; connect() waits for the restarted server.
    auto second = test::Child::spawn("echo_server", {guard.name()});
    client = Client::connect(guard.name());
    REQUIRE(client.is_open());
    send_text(client, "two");
    CHECK(receive_text(client) == "echo: two");
    if (native_backend() != Backend::win32) CHECK_FALSE(NamedSharedMemory::exists(old_connection));
    second.kill();
    (void)second.wait();
  }

  TEST_CASE("exists says whether a live server holds the name; remove frees a dead one's") {
    test::NameGuard guard(test::unique_name("se"));
    CHECK_FALSE(Server::exists(guard.name()));
    CHECK_FALSE(Server::remove(guard.name()));
    auto server_process = test::Child::spawn("server_dies", {guard.name()});
    Client client = Client::connect(guard.name());
    const std::string connection = client.name();
    guard.add(connection);
    CHECK(Server::exists(guard.name()));
    std::error_code ec;
    CHECK_FALSE(Server::remove(guard.name(), {}, ec));
    CHECK(ec == errc::role_taken);
    CHECK(Server::exists(guard.name()));

    server_process.kill();
    (void)server_process.wait();
    CHECK_FALSE(Server::exists(guard.name()));
    if (native_backend() != Backend::win32) {
      // Win32: the registry died with its server (no client holds it).
      CHECK(Server::remove(guard.name()));
      CHECK_FALSE(NamedSharedMemory::exists(guard.name()));
      CHECK_FALSE(NamedSharedMemory::exists(connection));
    }
    CHECK_FALSE(Server::remove(guard.name()));
  }

  TEST_CASE("timeouts and try forms return empty handles without an error") {
    test::NameGuard guard(test::unique_name("st"));
    std::error_code ec;
    CHECK_FALSE(Client::connect_for(guard.name(), std::chrono::milliseconds(50), {}, ec).is_open());
    CHECK_FALSE(ec);
    CHECK_FALSE(Client::connect_until(
                    guard.name(), std::chrono::system_clock::now() + std::chrono::milliseconds(20))
                    .is_open());
    CHECK_FALSE(Client::try_connect(guard.name()).is_open());
    auto server = Server::create(guard.name());
    CHECK_FALSE(server.try_accept().is_open());
    CHECK_FALSE(server.accept_for(std::chrono::milliseconds(20)).is_open());
    CHECK_FALSE(server.accept_until(std::chrono::steady_clock::now(), ec).is_open());
    CHECK_FALSE(ec);
  }

  TEST_CASE("misuse and bad arguments: invalid_state, invalid_name, invalid_size") {
    std::error_code ec;
    Server empty;
    CHECK_FALSE(empty.try_accept(ec).is_open());
    CHECK(ec == errc::invalid_state);
    CHECK_THROWS_AS((void)empty.try_accept(), Error);
    CHECK(empty.name().empty());
    CHECK(empty.capacity() == 0);
    (void)Server::create(std::string(k_max_name_length + 1, 's'), {}, ec);
    CHECK(ec == errc::invalid_name);
    (void)Client::try_connect(std::string(k_max_name_length + 1, 's'), {}, ec);
    CHECK(ec == errc::invalid_name);
    ServerOptions huge;
    huge.capacity = ~std::size_t{0};
    (void)Server::create(test::unique_name("sz"), huge, ec);
    CHECK(ec == errc::invalid_size);
  }

  TEST_CASE("a request pending when its server stops cleanly is served by the next server") {
    test::NameGuard guard(test::unique_name("sc"));
    std::optional<Server> first(Server::create(guard.name()));
    Client client;
    test::JoiningThread connecting(
        [&] { client = Client::connect_for(guard.name(), std::chrono::seconds(30)); });
    // Wait until the request is in the registry (observable state, no sleep).
    {
      detail::Failure failure;
      detail::SyncSegment registry =
          detail::open_registry(guard.name(), {}, detail::OpenMode::open, 0, failure);
      REQUIRE_FALSE(failure);
      auto& state = detail::registry_state(registry);
      const auto requested = [&] {
        for (const auto& slot : state.slots) {
          if (detail::ticket_state(slot.ticket.load()) == detail::slot_requested) return true;
        }
        return false;
      };
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (!requested() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
      REQUIRE(requested());
    }
    first.reset();  // a clean stop removes the registry, with the request in it
    auto second = Server::create(guard.name());
    Channel connection = second.accept_for(std::chrono::seconds(30));
    connecting.join();
    REQUIRE(connection.is_open());
    REQUIRE(client.is_open());
    send_text(client, "after the restart");
    CHECK(receive_text(connection) == "after the restart");
  }

  TEST_CASE("a longest server name: connection names fit, with the server's capacity") {
    std::string name = test::unique_name("sl");
    name.resize(k_max_name_length, 'x');
    test::NameGuard guard(name);
    ServerOptions options;
    options.capacity = 4096;
    auto server = Server::create(name, options);
    CHECK(server.capacity() == 4096);
    std::vector<std::size_t> capacities;  // checked after join: asserts stay on this thread
    std::vector<std::string> replies;
    test::JoiningThread client_thread([&] {
      for (int i = 0; i < 3; ++i) {
        Client client = Client::connect_for(name, std::chrono::seconds(30));
        capacities.push_back(client.outbound().capacity());
        send_text(client, "hi " + std::to_string(i));
        replies.push_back(receive_text(client));
      }
    });
    std::vector<std::string> names;
    for (int i = 0; i < 3; ++i) {
      Channel connection = server.accept_for(std::chrono::seconds(30));
      REQUIRE(connection.is_open());
      names.push_back(connection.name());
      // The lifecycle tools see a connection whatever its name's length.
      const SegmentInfo info = inspect_segment(connection.name());
      CHECK(info.kind == ObjectKind::channel);
      CHECK(receive_text(connection) == "hi " + std::to_string(i));
      send_text(connection, "ok");
    }
    client_thread.join();
    CHECK(capacities == std::vector<std::size_t>{4096, 4096, 4096});
    CHECK(replies == std::vector<std::string>{"ok", "ok", "ok"});
    for (const std::string& connection : names) {
      CHECK(connection.size() + 2 <= detail::k_max_os_name_length);
    }
    // Ids are not reused soon: three connections, three names.
    CHECK(names[0] != names[1]);
    CHECK(names[1] != names[2]);
    CHECK(names[0] != names[2]);
  }
}
