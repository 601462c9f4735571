// Server and Client: the input overwrites a live server's registry (its
// endpoint word, ids, sleepers and connection slots), optionally with a
// connection open, then the server accepts, clients connect, a second server
// tries to start, and everything is listed, all with 1 ms deadlines.
#include "fuzz_support.hpp"
#include "ring_use.hpp"

#include <thread>

using namespace shmkit;
using namespace shmkit::fuzz;

namespace {

ServerOptions small_connections() {
  ServerOptions server;
  static_cast<ObjectOptions&>(server) = quick_options();
  server.capacity = 256;
  return server;
}

ClientOptions client_options() {
  ClientOptions client;
  static_cast<ObjectOptions&>(client) = quick_options();
  return client;
}

void use(Channel& channel, std::uint8_t mode) {
  if (!channel.is_open()) return;
  fuzz::use(channel.outbound(), mode);
  fuzz::use(channel.inbound(), mode);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Input input(data, size);
  // mode: bit 0 connect a client before the input is written.
  const std::string name = next_name("v");
  std::error_code ec;

  Server server;
  attempt("start", [&] { server = Server::create(name, small_connections(), ec); });
  if (server.is_open()) {
    Channel client_end;
    Channel server_end;
    if (input.flag(0)) {
      // Not bounded by the watchdog: a handshake between two threads, with
      // deadlines of its own, done before anything is damaged.
      std::thread client([&] {
        std::error_code client_ec;
        client_end =
            Client::connect_for(name, std::chrono::seconds(2), client_options(), client_ec);
      });
      std::error_code accept_ec;
      server_end = server.accept_for(std::chrono::seconds(2), accept_ec);
      client.join();
    }
    scribble(name, input, sync_state_offset());
    inspect(name, input);
    attempt("accept 1 ms", [&] { (void)server.accept_for(k_short, ec); });
    attempt("connect 1 ms",
            [&] { (void)Client::connect_for(name, k_short, client_options(), ec); });
    attempt("try_connect", [&] { (void)Client::try_connect(name, client_options(), ec); });
    attempt("accept 1 ms after a connect", [&] { (void)server.accept_for(k_short, ec); });
    attempt("start a second server", [&] { (void)Server::create(name, small_connections(), ec); });
    attempt("exists", [&] { (void)Server::exists(name, small_connections(), ec); });
    use(client_end, input.mode());
    use(server_end, input.mode());
    attempt("close", [&] {
      client_end = Channel();
      server_end = Channel();
      server = Server();
    });
  }
  remove_all(name);
  return 0;
}
