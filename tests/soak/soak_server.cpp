// Server and Client under kill -9: one server process and three clients, any
// of them killed at any moment and restarted. A restarted server takes over
// the dead one's registry; clients reconnect. Each client sends sequenced,
// checksummed requests one at a time and checks every echo; when its server
// dies it checks that every echo the server committed did arrive.
#include "soak.hpp"

#include <cstring>
#include <thread>

namespace shmkit::soak {
namespace {

constexpr int k_clients = 3;
constexpr std::size_t k_connection_slots = 4;  // echo records per client, by connection id

struct Request {
  std::uint32_t client;
  std::uint32_t connection;
  std::uint64_t sequence;
  std::uint64_t sum;
};

struct ServerControl {
  Figures figures;  // heartbeat[0]: the server, [1 + i]: client i
  // (connection << 32) | echoes the server committed on that connection.
  std::atomic<std::uint64_t> echoed[k_clients][k_connection_slots];
  std::atomic<std::uint32_t> next_connection[k_clients];
};

ServerOptions server_options() {
  ServerOptions options;
  options.capacity = 1024;  // the clients' connections get it from the server
  return options;
}

std::size_t request_size(std::uint64_t sequence) {
  return sizeof(Request) + (sequence * 37) % 200;
}

void fill_request(std::vector<unsigned char>& out, std::uint32_t client, std::uint32_t connection,
                  std::uint64_t sequence) {
  out.resize(request_size(sequence));
  for (std::size_t i = sizeof(Request); i < out.size(); ++i) {
    out[i] = static_cast<unsigned char>(sequence + i * 7);
  }
  Request r{client, connection, sequence, 0};
  r.sum = checksum(out.data() + sizeof r, out.size() - sizeof r,
                   (std::uint64_t{client} << 40) ^ (std::uint64_t{connection} << 20) ^ sequence);
  std::memcpy(out.data(), &r, sizeof r);
}

bool valid_request(const void* data, std::size_t size, Request& r) {
  if (size < sizeof r) return false;
  std::memcpy(&r, data, sizeof r);
  const auto* bytes = static_cast<const unsigned char*>(data);
  return r.client < k_clients && size == request_size(r.sequence) &&
         r.sum == checksum(bytes + sizeof r, size - sizeof r,
                           (std::uint64_t{r.client} << 40) ^ (std::uint64_t{r.connection} << 20) ^
                               r.sequence);
}

}  // namespace

// args: server control incarnation
SHMKIT_SOAK_ROLE(server) {
  auto control = open_control(args.at(1));
  auto& c = *static_cast<ServerControl*>(control.data());
  Figures& f = c.figures;
  Server server;
  const auto give_up = Clock::now() + std::chrono::seconds(3);
  for (;;) {
    std::error_code ec;
    server = Server::create(args.at(0), server_options(), ec);
    if (!ec) break;
    f.heartbeat[0].fetch_add(1);
    if (Clock::now() > give_up) {
      report_error(f, "server", "cannot start: " + ec.message());
      return 3;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::vector<Channel> connections;
  for (;;) {
    f.heartbeat[0].fetch_add(1);
    std::error_code ec;
    const Deadline deadline = deadline_after(std::chrono::milliseconds(5));
    Channel accepted = bounded_wait(f, deadline, "accept_until",
                                    [&] { return server.accept_until(deadline, ec); });
    if (ec) report_error(f, "server", "accept: " + ec.message());
    if (accepted.is_open()) connections.push_back(std::move(accepted));
    for (auto it = connections.begin(); it != connections.end();) {
      bool closed = false;
      for (int k = 0; k < 4 && !closed; ++k) {
        std::error_code rec;
        const ConstByteSpan message = it->inbound().peek_until(Deadline(), rec);
        if (!message) {
          if (rec == errc::peer_gone) {
            closed = true;
          } else if (rec) {
            report_error(f, "server", "receive: " + rec.message());
          }
          break;
        }
        Request r{};
        if (!valid_request(message.data, message.size, r)) {
          f.corrupt.fetch_add(1);
          std::fprintf(stderr, "soak: server: a corrupt request of %zu bytes\n", message.size);
        }
        // Clients send one request at a time, so the echo finds room unless
        // the client is gone.
        std::error_code sec;
        const Deadline echo_deadline = deadline_after(std::chrono::milliseconds(20));
        const bool sent = bounded_wait(f, echo_deadline, "echo send_until", [&] {
          return it->outbound().send_until(message.data, message.size, echo_deadline, sec);
        });
        if (sent && r.client < k_clients) {
          c.echoed[r.client][r.connection % k_connection_slots].store(
              (std::uint64_t{r.connection} << 32) | (r.sequence + 1));
        }
        it->inbound().release();
        if (!sent) {
          if (sec && sec != errc::peer_gone) report_error(f, "server", "echo: " + sec.message());
          closed = true;
        }
      }
      it = closed ? connections.erase(it) : it + 1;
    }
  }
}

// args: server control client-index incarnation
SHMKIT_SOAK_ROLE(client) {
  auto control = open_control(args.at(1));
  auto& c = *static_cast<ServerControl*>(control.data());
  Figures& f = c.figures;
  const auto index = static_cast<std::uint32_t>(std::stoul(args.at(2)));
  std::atomic<std::uint64_t>& beat = f.heartbeat[1 + index];
  std::vector<unsigned char> request;
  std::vector<unsigned char> echo(1024);
  for (;;) {
    beat.fetch_add(1);
    std::error_code ec;
    const Deadline deadline = deadline_after(std::chrono::milliseconds(200));
    Client channel = bounded_wait(f, deadline, "connect_until", [&] {
      return Client::connect_until(args.at(0), deadline, {}, ec);
    });
    if (!channel.is_open()) {
      // A server being restarted: connect_until waits for it and returns
      // empty (no error) at its deadline.
      if (ec && ec != std::errc::connection_refused) {
        report_error(f, "client", "connect: " + ec.message());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    const std::uint32_t connection = c.next_connection[index].fetch_add(1) + 1;
    for (std::uint64_t sequence = 0;; ++sequence) {
      fill_request(request, index, connection, sequence);
      bool sent = false;
      bool gone = false;
      while (!sent && !gone) {
        beat.fetch_add(1);
        std::error_code sec;
        const Deadline send_deadline = deadline_after(std::chrono::milliseconds(50));
        sent = bounded_wait(f, send_deadline, "request send_until", [&] {
          return channel.send_until(request.data(), request.size(), send_deadline, sec);
        });
        gone = sec == errc::peer_gone;
        if (sec && !gone) report_error(f, "client", "send: " + sec.message());
      }
      bool answered = false;
      while (sent && !answered && !gone) {
        beat.fetch_add(1);
        std::error_code rec;
        const Deadline receive_deadline = deadline_after(std::chrono::milliseconds(50));
        const auto size = bounded_wait(f, receive_deadline, "echo receive_until", [&] {
          return channel.receive_until(echo.data(), echo.size(), receive_deadline, rec);
        });
        if (size) {
          answered = true;
          if (*size != request.size() || std::memcmp(echo.data(), request.data(), *size) != 0) {
            Request r{};
            if (valid_request(echo.data(), *size, r) && r.client == index &&
                r.connection == connection && r.sequence < sequence) {
              f.duplicated.fetch_add(1);
            } else {
              f.corrupt.fetch_add(1);
            }
            std::fprintf(stderr, "soak: client %u: a wrong echo for request %llu\n", index,
                         static_cast<unsigned long long>(sequence));
          } else {
            f.checked.fetch_add(1);
          }
        } else if (rec == errc::peer_gone) {
          gone = true;
        } else if (rec) {
          report_error(f, "client", "receive: " + rec.message());
        }
      }
      if (gone) {
        // The server died: every echo it committed must have arrived first.
        const std::uint64_t word = c.echoed[index][connection % k_connection_slots].load();
        if ((word >> 32) == connection && (word & 0xffffffffu) > sequence) {
          f.lost.fetch_add((word & 0xffffffffu) - sequence);
          std::fprintf(stderr,
                       "soak: client %u: the server committed echo %llu, which never came\n", index,
                       static_cast<unsigned long long>(sequence));
        }
        break;
      }
    }
  }
}

SHMKIT_SOAK_SCENARIO(server, 1) {
  Result result;
  const std::string server_name = prefix + "v";
  const std::string control_name = prefix + "ctl";
  auto control = create_control(control_name, sizeof(ServerControl));
  auto& c = *static_cast<ServerControl*>(control.data());
  Cast cast(c.figures, result);
  cast.add("server", [&] { return std::vector<std::string>{server_name, control_name}; });
  for (int i = 0; i < k_clients; ++i) {
    cast.add("client", [&, i] {
      return std::vector<std::string>{server_name, control_name, std::to_string(i)};
    });
  }
  cast.start_all();
  cast.run(budget, {1, 2, 2, 2});
  cast.kill_all();
  collect(c.figures, result);
  result.left_behind = clean_and_list(prefix, control_name);
  control.close();
  NamedSharedMemory::remove(control_name);
  return result;
}

}  // namespace shmkit::soak
