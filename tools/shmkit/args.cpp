#include "args.hpp"

#include "output.hpp"

#include <shmkit/name.hpp>

#include <algorithm>
#include <cctype>
#include <limits>

namespace shmkit::cli {
namespace {

struct Command {
  const char* name;
  const char* usage;
  unsigned min_operands;
  unsigned max_operands;  // UINT_MAX: any number
  const char* options;    // the flags it accepts, space-separated
};

constexpr unsigned k_many = std::numeric_limits<unsigned>::max();

constexpr Command k_commands[] = {
    {"list", "shmkit list [--all] [--json] [--prefix P] [--backend posix|sysv|win32] [--global]", 0,
     0, "--all --json --prefix --backend --global"},
    {"info", "shmkit info NAME [--json] [--backend posix|sysv|win32] [--global]", 1, 1,
     "--json --backend --global"},
    {"rm", "shmkit rm NAME... [--raw] [--backend posix|sysv|win32] [--global]", 1, k_many,
     "--raw --backend --global"},
    {"clean", "shmkit clean [--dry-run] [--prefix P] [--backend posix|sysv|win32] [--global]", 0, 0,
     "--dry-run --prefix --backend --global"},
    {"dump",
     "shmkit dump NAME [--offset N] [--length N] [--raw] [--backend posix|sysv|win32] [--global]",
     1, 1, "--offset --length --raw --backend --global"},
    {"create", "shmkit create NAME SIZE [--mode OCTAL] [--raw] [--backend posix|sysv|win32]", 2, 2,
     "--mode --raw --backend --global"},
    {"help", "shmkit help [COMMAND]", 0, 1, ""},
};

const Command* find_command(const std::string& name) {
  for (const auto& c : k_commands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

bool accepts(const Command& c, const std::string& option) {
  const std::string options = std::string(" ") + c.options + " ";
  return options.find(" " + option + " ") != std::string::npos;
}

std::optional<Backend> parse_backend(const std::string& text) {
  if (text == "posix") return Backend::posix;
  if (text == "sysv") return Backend::sysv;
  if (text == "win32") return Backend::win32;
  if (text == "native") return Backend::native;
  return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> parse_size(const std::string& text) {
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return std::nullopt;
  std::uint64_t value = 0;
  std::size_t i = 0;
  unsigned base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    i = 2;
  }
  const std::size_t digits_from = i;
  for (; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    unsigned digit;
    if (std::isdigit(c)) {
      digit = c - '0';
    } else if (base == 16 && std::isxdigit(c)) {
      digit = static_cast<unsigned>(std::tolower(c) - 'a' + 10);
    } else {
      break;
    }
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / base) return std::nullopt;
    value = value * base + digit;
  }
  if (i == digits_from) return std::nullopt;
  std::uint64_t unit = 1;
  if (i < text.size()) {
    const std::string suffix = text.substr(i);
    if (base == 16) return std::nullopt;
    if (suffix == "k" || suffix == "K" || suffix == "KiB") {
      unit = 1024;
    } else if (suffix == "M" || suffix == "MiB") {
      unit = 1024 * 1024;
    } else if (suffix == "G" || suffix == "GiB") {
      unit = 1024ULL * 1024 * 1024;
    } else {
      return std::nullopt;
    }
  }
  if (value > std::numeric_limits<std::uint64_t>::max() / unit) return std::nullopt;
  return value * unit;
}

std::string usage_line(const std::string& command) {
  if (const Command* c = find_command(command)) return std::string("usage: ") + c->usage;
  return "usage: shmkit list|info|rm|clean|dump|create|help ... (shmkit help for details)";
}

Arguments parse_arguments(int argc, char** argv) {
  Arguments args;
  if (argc < 2) throw UsageError{"", "no command given"};
  args.command = argv[1];
  if (args.command == "--help" || args.command == "-h") args.command = "help";
  const Command* command = find_command(args.command);
  if (command == nullptr) {
    throw UsageError{"", "unknown command '" + printable(args.command) + "'"};
  }

  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      args.operands = {args.command};
      args.command = "help";
      return args;
    }
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      args.operands.push_back(arg);
      continue;
    }
    std::string option = arg;
    std::optional<std::string> value;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      option = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (!accepts(*command, option)) {
      throw UsageError{args.command, "'" + args.command + "' has no option " + printable(option)};
    }
    const bool takes_value = option == "--backend" || option == "--prefix" ||
                             option == "--offset" || option == "--length" || option == "--mode";
    if (takes_value && !value) {
      if (i + 1 >= argc) throw UsageError{args.command, option + " needs a value"};
      value = argv[++i];
    } else if (!takes_value && value) {
      throw UsageError{args.command, option + " takes no value"};
    }
    if (option == "--backend") {
      args.backend = parse_backend(*value);
      if (!args.backend) {
        throw UsageError{args.command,
                         "unknown backend '" + printable(*value) + "' (posix, sysv or win32)"};
      }
    } else if (option == "--prefix") {
      args.prefix = *value;
    } else if (option == "--offset" || option == "--length") {
      const auto n = parse_size(*value);
      if (!n) {
        throw UsageError{args.command, option + " '" + printable(*value) + "' is not a byte count"};
      }
      (option == "--offset" ? args.offset : args.length) = *n;
    } else if (option == "--mode") {
      unsigned mode = 0;
      bool ok = !value->empty() && value->size() <= 4;
      for (char c : *value) {
        if (c < '0' || c > '7') ok = false;
        mode = mode * 8 + static_cast<unsigned>(c - '0');
      }
      if (!ok || mode > 0777) {
        throw UsageError{args.command,
                         "--mode '" + printable(*value) + "' is not an octal mode such as 0640"};
      }
      args.mode = mode;
    } else if (option == "--all") {
      args.all = true;
    } else if (option == "--json") {
      args.json = true;
    } else if (option == "--dry-run") {
      args.dry_run = true;
    } else if (option == "--raw") {
      args.raw = true;
    } else if (option == "--global") {
      args.global = true;
    }
  }
  // NAME operands: checked here so that a bad one gets the usage line.
  if (args.command == "info" || args.command == "rm" || args.command == "dump" ||
      args.command == "create") {
    const std::size_t names = args.command == "create"
                                  ? std::min<std::size_t>(1, args.operands.size())
                                  : args.operands.size();
    for (std::size_t i = 0; i < names; ++i) {
      if (!is_valid_name(args.operands[i])) {
        throw UsageError{args.command, "'" + printable(args.operands[i]) +
                                           "' is not a valid name: use 1-" +
                                           std::to_string(k_max_name_length) +
                                           " characters of A-Z "
                                           "a-z 0-9 . _ -, not starting with sem."};
      }
    }
  }
  const auto count = static_cast<unsigned>(args.operands.size());
  if (count < command->min_operands) {
    throw UsageError{args.command, "'" + args.command + "' needs " +
                                       (command->min_operands == 1 ? "a NAME" : "NAME and SIZE")};
  }
  if (count > command->max_operands) {
    throw UsageError{args.command, "unexpected argument '" +
                                       printable(args.operands[command->max_operands]) + "'"};
  }
  return args;
}

}  // namespace shmkit::cli
