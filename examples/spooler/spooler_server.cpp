// The spooler: a server that prints every string its clients send.
//   spooler_server NAME [SECONDS]   serves until SECONDS pass with no client
//                                   (default 10), then exits
#include <shmkit/shmkit.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: spooler_server NAME [IDLE-SECONDS]\n");
    return 2;
  }
  const std::string name = argv[1];
  const auto idle_limit = std::chrono::seconds(argc > 2 ? std::stoi(argv[2]) : 10);
  try {
    // Takes over the name of a spooler that died; fails (errc::role_taken)
    // while another one runs.
    auto server = shmkit::Server::create(name);
    std::printf("spooler '%s': waiting for clients\n", name.c_str());
    std::fflush(stdout);
    std::vector<shmkit::Channel> clients;
    auto last_activity = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - last_activity < idle_limit) {
      // Accept whoever is waiting (waiting a little when nobody is
      // connected), then serve every client a little.
      shmkit::Channel client =
          clients.empty() ? server.accept_for(std::chrono::milliseconds(100)) : server.try_accept();
      if (client.is_open()) {
        std::printf("spooler: client connected on %s\n", client.name().c_str());
        clients.push_back(std::move(client));
        last_activity = std::chrono::steady_clock::now();
      }
      for (auto it = clients.begin(); it != clients.end();) {
        char line[4096];
        std::error_code ec;
        const auto size = it->receive_until(
            line, sizeof line, shmkit::deadline_after(std::chrono::milliseconds(1)), ec);
        if (size) {
          std::printf("spooler: %.*s\n", static_cast<int>(*size), line);
          std::fflush(stdout);
          last_activity = std::chrono::steady_clock::now();
        }
        if (ec) {  // errc::peer_gone: the client is done (or died); closing frees it
          std::printf("spooler: client on %s left\n", it->name().c_str());
          it = clients.erase(it);
        } else {
          ++it;
        }
      }
    }
    std::printf("spooler: idle for %lld s, stopping\n", static_cast<long long>(idle_limit.count()));
  } catch (const shmkit::Error& e) {
    std::fprintf(stderr, "spooler_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
