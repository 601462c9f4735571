// The command line of the shmkit tool: `shmkit COMMAND [ARGS] [OPTIONS]`.
#pragma once

#include <shmkit/options.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shmkit::cli {

// Exit codes, documented in docs/cli.md.
enum Exit : int {
  k_ok = 0,
  k_not_found = 1,  // also "nothing to do" and any other failure
  k_usage = 2,
  k_permission = 3,
};

struct Arguments {
  std::string command;
  std::vector<std::string> operands;  // names, sizes
  std::optional<Backend> backend;
  bool global = false;  // Win32: Global\ instead of Local\.
  bool all = false;
  bool json = false;
  bool dry_run = false;
  bool raw = false;
  std::string prefix;
  std::optional<std::uint64_t> offset;
  std::optional<std::uint64_t> length;
  std::optional<unsigned> mode;
};

// Thrown for bad arguments; main() prints it with the command's usage line.
struct UsageError {
  std::string command;  // "" when the command itself is unknown
  std::string message;
};

// Parses argv; throws UsageError.
Arguments parse_arguments(int argc, char** argv);

// The one-line usage of `command` ("" for the list of commands).
std::string usage_line(const std::string& command);

// "4096", "4k", "1M", "0x1000": a byte count. nullopt if it is not one.
std::optional<std::uint64_t> parse_size(const std::string& text);

}  // namespace shmkit::cli
