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
    auto channel = shmkit::Client::connect(argv[1], std::chrono::seconds(5));
    auto send = [&](const std::string& text) { channel.send(text.data(), text.size()); };
    if (argc > 2) {
      for (int i = 2; i < argc; ++i) send(argv[i]);
    } else {
      for (std::string line; std::getline(std::cin, line);) send(line);
    }
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "spooler_client: %s\n", e.what());
    return 1;
  }
  return 0;
}
