// shmkit: list, inspect, clean up and script named shared memory.
// docs/cli.md describes every command, the JSON schema and the exit codes.
#include "args.hpp"
#include "output.hpp"

#include <shmkit/lifecycle.hpp>
#include <shmkit/shmkit.hpp>
#include <shmkit/topic_status.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace shmkit::cli {
namespace {

// Every message goes through terminal_safe(): it may quote the OS.
void complain(const std::string& message) {
  std::fprintf(stderr, "shmkit: %s\n", terminal_safe(message).c_str());
}

// 'NAME' for messages, escaped like the NAME column.
std::string quoted(const std::string& name) {
  return "'" + printable(name) + "'";
}

// The library's sentences speak of its API; the tool's users know flags.
std::string in_cli_terms(std::string text) {
  static const std::pair<const char*, const char*> k_terms[] = {
      {"pass SegmentOptions::raw (shmkit rm --raw)", "add --raw"},
      {"open it with SegmentOptions::raw", "add --raw"},
      {"SegmentOptions::raw", "--raw"},
      {"pass wider ObjectOptions::permissions", "use a wider --mode"},
  };
  for (const auto& [api, flag] : k_terms) {
    const std::string from = api;
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
      text.replace(at, from.size(), flag);
      at += std::char_traits<char>::length(flag);
    }
  }
  return text;
}

// What went wrong, for a message: the code's own text.
std::string reason(const std::error_code& ec) {
  return in_cli_terms(ec.message());
}

// The message for a failed call: the library's sentence when there is one
// (it names the object and says what to do), else `doing` and the code.
std::string failure_text(const std::string& doing, const std::error_code& ec,
                         const std::string& sentence) {
  return sentence.empty() ? doing + ": " + reason(ec) : in_cli_terms(sentence);
}

bool is_permission(const std::error_code& ec) {
  return ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted;
}

// The exit code for a failure.
int exit_for(const std::error_code& ec) {
  if (is_permission(ec)) return k_permission;
  if (ec == errc::invalid_name || ec == errc::invalid_size || ec == errc::invalid_argument ||
      ec == errc::backend_unavailable) {
    return k_usage;
  }
  return k_not_found;
}

// The worse of two exit codes: permission beats usage beats not-found.
int worse(int a, int b) {
  auto rank = [](int code) { return code == k_permission ? 3 : code == k_usage ? 2 : code; };
  return rank(a) >= rank(b) ? a : b;
}

SegmentOptions options_for(const Arguments& args, Backend backend) {
  SegmentOptions options;
  options.backend = backend;
  options.scope = args.global ? Scope::global : Scope::local;
  options.raw = args.raw;
  return options;
}

// The backends a NAME is looked for in: the one asked for, or the native
// one first (so `info x` finds the usual segment first), then SysV.
std::vector<Backend> backends_for(const Arguments& args) {
  if (args.backend) return {*args.backend};
  if (native_backend() == Backend::posix) return {Backend::posix, Backend::sysv};
  return {native_backend()};
}

ListOptions list_options(const Arguments& args) {
  ListOptions options;
  if (args.backend) options.backends = {*args.backend};
  options.all = args.all;
  options.name_prefix = args.prefix;
  options.find_mappers = true;
  options.scope = args.global ? Scope::global : Scope::local;
  return options;
}

int list(const Arguments& args) {
  std::error_code ec;
  const auto segments = list_segments(list_options(args), ec);
  if (ec) {
    complain("cannot list segments: " + ec.message());
    return exit_for(ec);
  }
  if (args.json) {
    print_json(segments, nullptr, stdout);
  } else {
    print_table(segments, stdout);
  }
  return k_ok;
}

// Every segment called NAME, in every backend looked at.
std::vector<SegmentInfo> find(const Arguments& args, const std::string& name, int& code) {
  std::vector<SegmentInfo> found;
  code = k_not_found;
  std::error_code first_error;
  for (Backend backend : backends_for(args)) {
    std::error_code ec;
    SegmentInfo info = inspect_segment(name, options_for(args, backend), ec);
    if (!ec) {
      found.push_back(std::move(info));
    } else if (ec != errc::not_found && !first_error &&
               (args.backend || ec != std::errc::function_not_supported)) {
      first_error = ec;
    }
  }
  if (!found.empty()) {
    code = k_ok;
  } else if (first_error) {
    complain(quoted(name) + ": " + reason(first_error));
    code = exit_for(first_error);
  } else {
    complain("no segment called " + quoted(name) +
             (args.backend ? std::string(" (") + to_string(*args.backend) + ")" : ""));
  }
  return found;
}

// What a topic's control segment holds (inspect_topic), or nullopt with the
// reason on stderr and `code` set.
std::optional<TopicStatus> read_topic(const Arguments& args, const SegmentInfo& segment,
                                      int& code) {
  if (segment.kind != ObjectKind::topic || segment.state != HeaderState::ready ||
      segment.backend != native_backend()) {
    return std::nullopt;
  }
  ObjectOptions options = options_for(args, segment.backend);
  // Only reading, through read-only mappings: whoever owns it.
  options.trusted_owners = {"*"};
  std::error_code ec;
  TopicStatus status = inspect_topic(segment.name, options, ec);
  if (ec) {
    const std::string sentence = error_message(ec);
    complain(failure_text("cannot read topic " + quoted(segment.name), ec, sentence));
    code = worse(code, exit_for(ec));
    return std::nullopt;
  }
  return status;
}

int info(const Arguments& args) {
  int code = k_ok;
  const auto found = find(args, args.operands.front(), code);
  if (found.empty()) return code;
  code = k_ok;
  std::vector<std::optional<TopicStatus>> topics;
  for (const auto& segment : found) topics.push_back(read_topic(args, segment, code));
  if (args.json) {
    print_json(found, &topics, stdout);
  } else {
    for (std::size_t i = 0; i < found.size(); ++i) {
      if (i != 0) std::fputs("\n", stdout);
      print_details(found[i], topics[i], stdout);
    }
  }
  return code;
}

// Why `rm` without --raw will not remove `s`, or "" if it will.
std::string needs_raw(const SegmentInfo& s) {
  if (s.kind == ObjectKind::raw && s.state != HeaderState::blank) return "has no shmkit header";
  if (s.kind == ObjectKind::unknown && s.state != HeaderState::unreadable) {
    return s.state == HeaderState::incompatible
               ? "has a shmkit header that this version cannot read"
               : "holds a kind of object that this version does not know";
  }
  return {};
}

int rm(const Arguments& args) {
  int result = k_ok;
  for (const auto& name : args.operands) {
    int code = k_ok;
    const auto found = find(args, name, code);
    if (found.empty()) {
      result = worse(result, code);
      continue;
    }
    for (const auto& segment : found) {
      const std::string what = quoted(name) + " (" + to_string(segment.backend) + ")";
      SegmentOptions options = options_for(args, segment.backend);
      if (!args.raw) {
        if (const std::string why = needs_raw(segment); !why.empty()) {
          complain(what + " " + why +
                   ", so shmkit cannot tell what owns it; add --raw to remove it anyway");
          result = worse(result, k_usage);
          continue;
        }
        if (segment.state == HeaderState::blank) {
          complain(what + " is blank (" + std::to_string(segment.os_size) +
                   " bytes, all zero): a creator that died before writing its header, or "
                   "another program's empty object; removing it as raw");
        }
      }
      std::string sentence;
      std::error_code ec;
      bool removed = false;
      try {
        removed = remove_object(name, options);
      } catch (const std::system_error& e) {
        ec = e.code();
        sentence = e.what();
      }
      if (ec) {
        complain(failure_text("cannot remove " + what, ec, sentence));
        result = worse(result, exit_for(ec));
      } else if (!removed) {
        complain(what + " " +
                 (segment.backend == Backend::win32
                      ? "cannot be removed: a win32 segment goes when its last handle closes"
                      : "was already gone"));
        result = worse(result, k_not_found);
      } else {
        std::printf("removed %s (%s, %s)\n", printable(name).c_str(), to_string(segment.backend),
                    to_string(segment.kind));
      }
    }
  }
  return result;
}

std::string describe_stale(const SegmentInfo& s) {
  return printable(s.name) + " (" + to_string(s.backend) + ", " + to_string(s.kind) + ", " +
         std::to_string(s.size) + " bytes, creator " + std::to_string(s.creator.pid) + " exited)";
}

int clean(const Arguments& args) {
  ListOptions options = list_options(args);
  options.all = false;
  options.find_mappers = false;
  std::error_code ec;
  const auto segments = list_segments(options, ec);
  if (ec) {
    complain("cannot list segments: " + ec.message());
    return exit_for(ec);
  }
  std::size_t removed = 0;
  int failure = k_ok;
  for (const auto& s : segments) {
    if (!s.stale) continue;
    if (s.backend == Backend::win32) {
      std::printf("kept %s: a win32 segment goes when its last handle closes\n",
                  printable(s.name).c_str());
      continue;
    }
    if (args.dry_run) {
      std::printf("would remove %s\n", describe_stale(s).c_str());
      ++removed;
      continue;
    }
    SegmentOptions one;
    one.backend = s.backend;
    one.scope = s.scope;
    std::error_code remove_ec;
    if (remove_if_stale(s.name, one, remove_ec)) {
      std::printf("removed %s\n", describe_stale(s).c_str());
      ++removed;
    } else if (remove_ec) {
      complain("skipped " + printable(s.name) + " (" + to_string(s.backend) +
               "): " + reason(remove_ec));
      failure = worse(failure, exit_for(remove_ec));
    } else {
      std::printf("kept %s: in use again\n", printable(s.name).c_str());
    }
  }
  if (failure != k_ok) return failure;
  if (removed == 0) {
    std::printf("nothing to clean\n");
    return k_not_found;
  }
  return k_ok;
}

int dump(const Arguments& args) {
  const std::string& name = args.operands.front();
  int code = k_ok;
  const auto found = find(args, name, code);
  if (found.empty()) return code;
  const SegmentInfo& target = found.front();
  SegmentOptions options = options_for(args, target.backend);
  options.access = Access::read_only;
  // Only reading, and only to show bytes: whoever owns it.
  options.trusted_owners = {"*"};
  // Segments show their data; anything else (a mutex, a foreign object)
  // only makes sense whole, header included.
  options.raw = args.raw || target.kind != ObjectKind::segment;
  if (target.kind == ObjectKind::symlink || target.kind == ObjectKind::special) {
    complain(quoted(name) + " (" + to_string(target.backend) + ") is " +
             (target.kind == ObjectKind::symlink ? "a symbolic link"
                                                 : "a FIFO, socket, device or directory") +
             ", not shared memory: shmkit never follows or opens it");
    return k_not_found;
  }
  if (options.raw && !args.raw && target.state != HeaderState::unreadable) {
    std::string what;
    if (target.kind == ObjectKind::raw) {
      what = "has no shmkit header";
    } else if (target.kind == ObjectKind::unknown) {
      what = "has a shmkit header that this version cannot read";
    } else {
      const std::string kind = to_string(target.kind);
      const bool vowel = std::string_view("aeiou").find(kind.front()) != std::string_view::npos;
      what = std::string("is ") + (vowel ? "an " : "a ") + kind + ", not a segment";
    }
    complain(quoted(name) + " " + what + "; dumping the whole object");
  }
  std::string sentence;
  std::error_code ec;
  NamedSharedMemory shm;
  try {
    shm = NamedSharedMemory::open(name, options);
  } catch (const std::system_error& e) {
    ec = e.code();
    sentence = e.what();
  }
  if (ec) {
    complain(failure_text("cannot open " + quoted(name), ec, sentence));
    return exit_for(ec);
  }
  const std::uint64_t size = shm.size();
  const std::uint64_t offset = args.offset.value_or(0);
  if (offset > size) {
    complain("--offset " + std::to_string(offset) + " is past the end of " + quoted(name) + " (" +
             std::to_string(size) + " bytes)");
    return k_usage;
  }
  const std::uint64_t length = args.length.value_or(size - offset);
  if (length > size - offset) {
    complain("--length " + std::to_string(length) + " from offset " + std::to_string(offset) +
             " passes the end of " + quoted(name) + " (" + std::to_string(size) + " bytes)");
    return k_usage;
  }
  print_hex(static_cast<const unsigned char*>(shm.data()) + offset,
            static_cast<std::size_t>(length), offset, stdout);
  return k_ok;
}

int create(const Arguments& args) {
  const std::string& name = args.operands[0];
  const auto size = parse_size(args.operands[1]);
  if (!size || *size == 0) {
    throw UsageError{"create", "SIZE " + quoted(args.operands[1]) + " is not a byte count above 0"};
  }
  SegmentOptions options = options_for(args, args.backend.value_or(native_backend()));
  if (args.mode) options.permissions = *args.mode;
  std::string sentence;
  std::error_code ec;
  NamedSharedMemory shm;
  try {
    shm = NamedSharedMemory::create(name, static_cast<std::size_t>(*size), options);
  } catch (const std::system_error& e) {
    ec = e.code();
    sentence = e.what();
  }
  if (ec) {
    complain(failure_text("cannot create " + quoted(name), ec, sentence));
    return exit_for(ec);
  }
  std::printf("created %s (%s, %llu bytes)\n", name.c_str(), to_string(shm.backend()),
              static_cast<unsigned long long>(shm.size()));
  if (shm.backend() == Backend::win32) {
    std::printf("note: a win32 segment goes when its last handle closes, which is now\n");
  }
  return k_ok;
}

int help(const Arguments& args) {
  if (!args.operands.empty()) {
    std::printf("%s\n", usage_line(args.operands.front()).c_str());
    return k_ok;
  }
  std::fputs(
      "shmkit: list, inspect and clean up named shared memory\n"
      "\n"
      "  shmkit list [--all] [--json] [--prefix P]   shmkit's segments (--all: every one)\n"
      "  shmkit info NAME [--json]                   everything known about NAME\n"
      "  shmkit rm NAME... [--raw]                   remove NAME (--raw: no shmkit header)\n"
      "  shmkit clean [--dry-run] [--prefix P]       remove stale segments only\n"
      "  shmkit dump NAME [--offset N] [--length N]  hex + ASCII of the data\n"
      "  shmkit create NAME SIZE [--mode 0640]       make a segment, for scripts\n"
      "\n"
      "Every command takes --backend posix|sysv|win32 (and --global on Windows).\n"
      "Exit codes: 0 ok, 1 not found or nothing to do, 2 usage, 3 permission denied.\n"
      "A segment is stale when its creator and every process attached to it have\n"
      "exited; see docs/cli.md and docs/lifecycle.md.\n",
      stdout);
  return k_ok;
}

int run(const Arguments& args) {
  if (args.command == "list") return list(args);
  if (args.command == "info") return info(args);
  if (args.command == "rm") return rm(args);
  if (args.command == "clean") return clean(args);
  if (args.command == "dump") return dump(args);
  if (args.command == "create") return create(args);
  return help(args);
}

}  // namespace
}  // namespace shmkit::cli

int main(int argc, char** argv) {
  using namespace shmkit::cli;
  try {
    return run(parse_arguments(argc, argv));
  } catch (const UsageError& e) {
    complain(e.message);
    std::fprintf(stderr, "%s\n", usage_line(e.command).c_str());
    return k_usage;
  } catch (const std::bad_alloc&) {
    complain("out of memory");
  } catch (const std::system_error& e) {
    complain(in_cli_terms(e.what()));
    return exit_for(e.code());
  } catch (const std::exception& e) {
    complain(e.what());
  } catch (...) {
    complain("unexpected failure");
  }
  return k_not_found;
}
