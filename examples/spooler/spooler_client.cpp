// Sends each argument (or each line of standard input) to the spooler.
//   spooler_client NAME [TEXT...]
#include <shmkit/shmkit.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: spooler_client NAME [TEXT...]\n");
    return 2;
  }
  try {
    // Waits for the spooler to start (or to be restarted) and accept us.
    shmkit::Client client = shmkit::Client::connect_for(argv[1], std::chrono::seconds(5));
    if (!client.is_open()) {
      std::fprintf(stderr, "spooler_client: no spooler '%s' accepted us within 5 s; start it\n",
                   argv[1]);
      return 1;
    }
    auto send = [&](const std::string& text) { client.send(text.data(), text.size()); };
    if (argc > 2) {
      for (int i = 2; i < argc; ++i) send(argv[i]);
    } else {
      for (std::string line; std::getline(std::cin, line);) send(line);
    }
  } catch (const shmkit::Error& e) {
    std::fprintf(stderr, "spooler_client: %s\n", e.what());
    return 1;
  }
  return 0;
}
