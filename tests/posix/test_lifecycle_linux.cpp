// What only Linux can tell about segments (/proc maps, SysV nattch and
// "dest"), and the `shmkit` tool's output, exit codes and bad-argument
// handling, checked by running the built binary.
#include <doctest/doctest.h>

#include <shmkit/lifecycle.hpp>
#include <shmkit/shmkit.hpp>
#include <shmkit/topic_status.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"
#include "core/process_identity.hpp"
#include "messaging/topic_layout.hpp"
#include "segment/segment_backend.hpp"
#include "segment/segment_header.hpp"
#include "sync/sync_segment.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace shmkit;

namespace {

SegmentOptions on(Backend backend) {
  SegmentOptions options;
  options.backend = backend;
  return options;
}

std::vector<SegmentInfo> list_all(const std::string& prefix, Backend backend) {
  ListOptions options;
  options.backends = {backend};
  options.name_prefix = prefix;
  options.all = true;
  options.find_mappers = true;
  return list_segments(options);
}

bool maps_file(std::uint64_t pid, const std::string& path) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.size() >= path.size() &&
        line.compare(line.size() - path.size(), path.size(), path) == 0) {
      return true;
    }
  }
  return false;
}

bool contains(const std::vector<std::uint64_t>& pids, std::uint64_t pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

// ---- running the tool -----------------------------------------------------

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

std::string cli_path() {
  if (const char* path = std::getenv("SHMKIT_CLI")) return path;
  const std::string& self = test::self_path();
  const auto slash = self.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : self.substr(0, slash);
  return dir + "/../tools/shmkit";
}

bool cli_built() {
  return ::access(cli_path().c_str(), X_OK) == 0;
}

// Runs the tool with `args`, as `uid` if it is not -1; captures both outputs.
CliResult run_cli(const std::vector<std::string>& args, int uid = -1) {
  int out_pipe[2], err_pipe[2];
  REQUIRE(::pipe(out_pipe) == 0);
  REQUIRE(::pipe(err_pipe) == 0);
  std::vector<std::string> storage{cli_path()};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    if (uid >= 0 &&
        (::setgid(static_cast<gid_t>(uid)) != 0 || ::setuid(static_cast<uid_t>(uid)) != 0)) {
      ::_exit(120);
    }
    ::execv(argv[0], argv.data());
    ::_exit(121);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CliResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  while (open_count > 0) {
    if (::poll(fds, 2, 30000) <= 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
  return result;
}

// Replaces what changes from run to run, then squeezes runs of spaces, so
// that the text can be compared with a golden copy.
std::string normalise(std::string text,
                      const std::vector<std::pair<std::string, std::string>>& words) {
  for (const auto& [from, to] : words) {
    if (from.find_first_not_of("0123456789") == std::string::npos) {
      // Whole numbers only: pid 12 must not rewrite 4129.
      text = std::regex_replace(text, std::regex("(^|[^0-9])" + from + "(?![0-9])"), "$1" + to);
    } else {
      for (auto at = text.find(from); at != std::string::npos;
           at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
      }
    }
  }
  text = std::regex_replace(text, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)"), "<TIME>");
  text = std::regex_replace(text, std::regex(R"(uid \d+)"), "uid <UID>");
  text = std::regex_replace(text, std::regex(" +"), " ");
  return text;
}

// Every row's cells start (left-aligned) or end (right-aligned) where the
// heading's do.
void check_aligned(const std::string& utf8_table, const std::vector<std::string>& right_aligned) {
  // One character per column on a terminal: each UTF-8 sequence becomes '?'.
  std::string table;
  for (char c : utf8_table) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte & 0xc0) == 0x80) continue;
    table += byte >= 0x80 ? '?' : c;
  }
  std::istringstream lines(table);
  std::string heading;
  REQUIRE(std::getline(lines, heading));
  struct Column {
    std::size_t start, end;
    bool right;
  };
  std::vector<Column> columns;
  const std::regex cell(R"(\S+( \S+)*)");
  for (auto it = std::sregex_iterator(heading.begin(), heading.end(), cell);
       it != std::sregex_iterator(); ++it) {
    const std::string title = it->str();
    const bool right =
        std::find(right_aligned.begin(), right_aligned.end(), title) != right_aligned.end();
    columns.push_back({static_cast<std::size_t>(it->position()),
                       static_cast<std::size_t>(it->position() + it->length()), right});
  }
  std::string row;
  while (std::getline(lines, row)) {
    CAPTURE(row);
    for (const auto& c : columns) {
      if (c.right) {
        REQUIRE(c.end <= row.size());
        CHECK(row[c.end - 1] != ' ');
        CHECK((c.end == row.size() || row[c.end] == ' '));
      } else {
        REQUIRE(c.start < row.size());
        CHECK(row[c.start] != ' ');
        CHECK((c.start == 0 || row[c.start - 1] == ' '));
      }
    }
  }
}

// ---- files anyone can put in /dev/shm ------------------------------------

std::string shm_path(const std::string& name) {
  return "/dev/shm/" + name;
}

// Removes /dev/shm entries by path (names shmkit would refuse included),
// and a directory, even when the test fails half-way.
class PathGuard {
 public:
  PathGuard() = default;
  PathGuard(const PathGuard&) = delete;
  PathGuard& operator=(const PathGuard&) = delete;
  ~PathGuard() {
    for (const auto& path : paths_) {
      if (::unlink(path.c_str()) != 0 && errno == EISDIR) ::rmdir(path.c_str());
      if (errno == EPERM) ::rmdir(path.c_str());
    }
  }
  const std::string& add(std::string path) {
    paths_.push_back(std::move(path));
    return paths_.back();
  }

 private:
  std::vector<std::string> paths_;
};

// A regular file of `bytes` in /dev/shm, as another program (or user) makes one.
void plant_file(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

bool entry_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The child `lc_create_stuck` (test_lifecycle.cpp) inside the creation of
// `name`, its header naming it: the state a creator killed during a slow
// creation leaves once it is killed.
test::Child stuck_creator(const std::string& name, Backend backend, ObjectKind kind,
                          std::size_t size) {
  auto child = test::Child::spawn(
      "lc_create_stuck", {name, to_string(backend), std::to_string(static_cast<unsigned>(kind)),
                          std::to_string(size)});
  REQUIRE(test::eventually([&] {
    std::error_code ec;
    const SegmentInfo s = inspect_segment(name, on(backend), ec);
    return !ec && s.state == HeaderState::initializing && s.creator.pid == child.pid();
  }));
  return child;
}

// ---- JSON, checked without a library ---------------------------------------

bool valid_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = c < 0x80                   ? 1
                    : (c >= 0xc2 && c <= 0xdf) ? 2
                    : (c >= 0xe0 && c <= 0xef) ? 3
                    : (c >= 0xf0 && c <= 0xf4) ? 4
                                               : 0;
    if (n == 0 || i + n > text.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// A strict recursive-descent check of RFC 8259 syntax.
class JsonChecker {
 public:
  explicit JsonChecker(const std::string& text) : text_(text) {}
  bool valid() {
    space();
    if (!value()) return false;
    space();
    return at_ == text_.size();
  }

 private:
  bool value() {
    if (at_ >= text_.size()) return false;
    switch (text_[at_]) {
      case '{':
        return object();
      case '[':
        return array();
      case '"':
        return string();
      case 't':
        return word("true");
      case 'f':
        return word("false");
      case 'n':
        return word("null");
      default:
        return number();
    }
  }
  bool object() {
    ++at_;
    space();
    if (peek('}')) return ++at_, true;
    for (;;) {
      space();
      if (!peek('"') || !string()) return false;
      space();
      if (!peek(':')) return false;
      ++at_;
      space();
      if (!value()) return false;
      space();
      if (peek('}')) return ++at_, true;
      if (!peek(',')) return false;
      ++at_;
    }
  }
  bool array() {
    ++at_;
    space();
    if (peek(']')) return ++at_, true;
    for (;;) {
      space();
      if (!value()) return false;
      space();
      if (peek(']')) return ++at_, true;
      if (!peek(',')) return false;
      ++at_;
    }
  }
  bool string() {
    ++at_;
    while (at_ < text_.size()) {
      const auto c = static_cast<unsigned char>(text_[at_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (at_ >= text_.size()) return false;
      const char e = text_[at_++];
      if (e == 'u') {
        for (int i = 0; i < 4; ++i) {
          if (at_ >= text_.size() || !std::isxdigit(static_cast<unsigned char>(text_[at_++]))) {
            return false;
          }
        }
      } else if (std::string("\"\\/bfnrt").find(e) == std::string::npos) {
        return false;
      }
    }
    return false;
  }
  bool number() {
    const std::size_t start = at_;
    if (peek('-')) ++at_;
    while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) ++at_;
    return at_ > start && std::isdigit(static_cast<unsigned char>(text_[at_ - 1]));
  }
  bool word(const char* w) {
    const std::string expected = w;
    if (text_.compare(at_, expected.size(), expected) != 0) return false;
    at_ += expected.size();
    return true;
  }
  bool peek(char c) const { return at_ < text_.size() && text_[at_] == c; }
  void space() {
    while (at_ < text_.size() && std::string(" \t\r\n").find(text_[at_]) != std::string::npos) {
      ++at_;
    }
  }

  const std::string& text_;
  std::size_t at_ = 0;
};

bool valid_json(const std::string& text) {
  return valid_utf8(text) && JsonChecker(text).valid();
}

// No byte a terminal would act on: controls other than the line ends, DEL,
// C1 controls (as UTF-8), and nothing that is not UTF-8.
bool terminal_safe(const std::string& text) {
  if (!valid_utf8(text)) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xa0) {
      return false;
    }
  }
  return true;
}

}  // namespace

// args: name. A program without shmkit: shm_open, ftruncate, mmap; then waits.
SHMKIT_CHILD_ROLE(lcl_foreign_map) {
  const std::string os_name = "/" + args.at(0);
  const int fd = ::shm_open(os_name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) return 2;
  if (::ftruncate(fd, 8192) != 0) return 3;
  void* base = ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return 4;
  std::memcpy(base, "foreign", 7);
  std::this_thread::sleep_for(std::chrono::seconds(60));
  return 0;
}

// args: name backend. Opens read-only, then waits to be killed.
SHMKIT_CHILD_ROLE(lcl_read_only_hold) {
  SegmentOptions options = on(args.at(1) == "sysv" ? Backend::sysv : Backend::posix);
  options.access = Access::read_only;
  auto shm = NamedSharedMemory::open(args.at(0), options);
  std::this_thread::sleep_for(std::chrono::seconds(60));
  return 0;
}

// args: name backend size text. Creates, writes, exits: a stale leftover.
SHMKIT_CHILD_ROLE(lcl_create_exit) {
  auto shm = NamedSharedMemory::create(args.at(0), std::stoul(args.at(2)),
                                       on(args.at(1) == "sysv" ? Backend::sysv : Backend::posix));
  std::snprintf(static_cast<char*>(shm.data()), shm.size(), "%s", args.at(3).c_str());
  return 0;
}

// args: name backend. Opens read-write, then waits to be killed.
SHMKIT_CHILD_ROLE(lcl_attach_hold) {
  auto shm = NamedSharedMemory::open(args.at(0),
                                     on(args.at(1) == "sysv" ? Backend::sysv : Backend::posix));
  std::this_thread::sleep_for(std::chrono::seconds(60));
  return 0;
}

// args: name. Creates a ring and exits: a stale leftover.
SHMKIT_CHILD_ROLE(lcl_ring_exit) {
  auto ring = RingConsumer::create(args.at(0), 4096);
  return 0;
}

// args: name iterations. Lists `name` over and over (a header copy each
// time); a lister that touched a mapping of it would die of SIGBUS while its
// owner truncates it.
SHMKIT_CHILD_ROLE(lcl_list_loop) {
  const int iterations = std::stoi(args.at(1));
  ListOptions all;
  all.backends = {Backend::posix};
  all.all = true;
  all.name_prefix = args.at(0);
  for (int i = 0; i < iterations; ++i) {
    std::error_code ec;
    (void)list_segments(all, ec);
    if (ec) return 2;
  }
  return 0;
}

TEST_SUITE("lifecycle_linux") {
  TEST_CASE("list --all agrees with /proc about a foreign segment a child maps") {
    test::NameGuard guard(test::unique_name("lxf"));
    const std::string& name = guard.name();
    auto child = test::Child::spawn("lcl_foreign_map", {name});
    REQUIRE(test::eventually([&] { return maps_file(child.pid(), "/dev/shm/" + name); }));

    const auto found = list_all(name, Backend::posix);
    REQUIRE(found.size() == 1);
    const SegmentInfo& s = found.front();
    CHECK(s.name == name);
    CHECK(s.kind == ObjectKind::raw);
    CHECK(s.size == 8192);
    CHECK_FALSE(s.stale);
    REQUIRE(s.mapped_by.has_value());
    CHECK(*s.mapped_by == std::vector<std::uint64_t>{child.pid()});
    // Not shmkit's: only listed with `all`.
    ListOptions mine;
    mine.name_prefix = name;
    CHECK(list_segments(mine).empty());

    if (cli_built()) {
      const CliResult json = run_cli({"list", "--all", "--json", "--prefix", name});
      CHECK(json.code == 0);
      CHECK(json.out.find("\"kind\": \"raw\"") != std::string::npos);
      CHECK(json.out.find("\"mapped_by\": [" + std::to_string(child.pid()) + "]") !=
            std::string::npos);
    }

    child.kill();
    child.wait();
    const auto after = list_all(name, Backend::posix);
    REQUIRE(after.size() == 1);
    CHECK(after.front().mapped_by->empty());
    CHECK_FALSE(after.front().stale);  // a foreign segment is never stale
    CHECK(remove_stale(ListOptions{{Backend::posix}, true, name, false, Scope::local}).empty());
  }

  TEST_CASE("a read-only reader keeps a segment with a dead creator from being stale") {
    for (Backend backend : {Backend::posix, Backend::sysv}) {
      const std::string backend_name = to_string(backend);
      CAPTURE(backend_name);
      test::NameGuard guard(test::unique_name("lxr"));
      const std::string& name = guard.name();
      REQUIRE(test::run_child("lcl_create_exit", {name, to_string(backend), "64", "r"}).code == 0);
      auto reader = test::Child::spawn("lcl_read_only_hold", {name, to_string(backend)});
      REQUIRE(test::eventually([&] {
        const auto found = list_all(name, backend);
        return found.size() == 1 && found.front().mapped_by &&
               contains(*found.front().mapped_by, reader.pid());
      }));
      const SegmentInfo s = inspect_segment(name, on(backend));
      CHECK(s.attached.empty());  // the creator closed; read-only openers are never listed
      CHECK_FALSE(s.creator.alive);
      CHECK_FALSE(s.stale);
      CHECK_FALSE(remove_if_stale(name, on(backend)));
      // The reader; a lister in another process (another test binary running
      // beside this one) attaches for a moment too.
      if (backend == Backend::sysv) CHECK(s.sysv->attach_count >= 1);

      reader.kill();
      reader.wait();
      // A lister in another test binary may be attached for a moment (SysV
      // headers can only be read through shmat), which rightly keeps the
      // segment from being stale until it detaches.
      CHECK(test::eventually([&] { return inspect_segment(name, on(backend)).stale; }));
      CHECK(test::eventually([&] { return remove_if_stale(name, on(backend)); }));
      CHECK_FALSE(NamedSharedMemory::exists(name, on(backend)));
    }
  }

  TEST_CASE("a removed SysV segment that is still attached shows as dest") {
    test::NameGuard guard(test::unique_name("lxd"));
    const std::string& name = guard.name();
    auto shm = NamedSharedMemory::create(name, 64, on(Backend::sysv));
    const int shmid = static_cast<int>(shm.native_handle());
    REQUIRE(NamedSharedMemory::remove(name, on(Backend::sysv)));
    ListOptions options;
    options.backends = {Backend::sysv};
    options.all = true;
    const auto found = list_segments(options);
    const auto it = std::find_if(found.begin(), found.end(), [&](const SegmentInfo& s) {
      return s.sysv && s.sysv->shmid == shmid;
    });
    REQUIRE(it != found.end());
    CHECK(it->name == name);  // from the header: the key is gone
    CHECK(it->sysv->marked_for_destruction);
    CHECK(it->sysv->attach_count >= 1);
    CHECK_FALSE(it->stale);
  }

  TEST_CASE("a stale mutex goes with its wake-up semaphore") {
    test::NameGuard guard(test::unique_name("lxm"));
    const std::string& name = guard.name();
    // lc_mutex_exit (test_lifecycle.cpp) creates the mutex and exits.
    REQUIRE(test::run_child("lc_mutex_exit", {name, "posix"}).exited);
    struct stat st {};
    const std::string semaphore = "/dev/shm/sem." + name;
    // Only the portable build sleeps on a named semaphore.
    const bool had_semaphore = ::stat(semaphore.c_str(), &st) == 0;
    CHECK(inspect_segment(name).stale);
    CHECK(remove_if_stale(name));
    CHECK_FALSE(NamedSharedMemory::exists(name));
    CHECK(::stat(semaphore.c_str(), &st) != 0);
    MESSAGE("this build " << std::string(had_semaphore ? "has" : "has no") << " wake-up semaphore");
  }

  TEST_CASE("a stale ring goes with both of its wake-up semaphores") {
    test::NameGuard guard(test::unique_name("lxg"));
    const std::string& name = guard.name();
    REQUIRE(test::run_child("lcl_ring_exit", {name}).code == 0);
    struct stat st {};
    const std::string semaphores[] = {"/dev/shm/sem." + name, "/dev/shm/sem." + name + ".1"};
    const bool had_semaphores = ::stat(semaphores[0].c_str(), &st) == 0;
    const SegmentInfo info = inspect_segment(name);
    CHECK(info.kind == ObjectKind::ring);
    CHECK(info.stale);
    CHECK(remove_if_stale(name));
    CHECK_FALSE(NamedSharedMemory::exists(name));
    for (const auto& path : semaphores) CHECK(::stat(path.c_str(), &st) != 0);
    MESSAGE("this build " << std::string(had_semaphores ? "has" : "has no")
                          << " wake-up semaphores");
  }

  TEST_CASE(
      "a symlink planted under a name is listed as one, never followed, and removed as a link") {
    test::NameGuard guard(test::unique_name("lxs"));
    const std::string& name = guard.name();
    PathGuard paths;
    // The target is a file of ours, to see that nothing reads or removes it.
    char target[] = "/tmp/shmkit-target-XXXXXX";
    const int target_fd = ::mkstemp(target);
    REQUIRE(target_fd >= 0);
    ::close(target_fd);
    paths.add(target);
    { std::ofstream(target) << "the target"; }
    REQUIRE(::symlink(target, paths.add(shm_path(name)).c_str()) == 0);

    const auto found = list_all(name, Backend::posix);
    REQUIRE(found.size() == 1);
    const SegmentInfo& s = found.front();
    CHECK(s.kind == ObjectKind::symlink);
    CHECK(s.state == HeaderState::none);
    CHECK(s.size == 0);
    CHECK(s.os_size == 0);
    CHECK_FALSE(s.stale);
    CHECK_FALSE(s.mapped_by.has_value());
    CHECK(s.owner_uid == ::geteuid());
    ListOptions mine;
    mine.name_prefix = name;
    CHECK(list_segments(mine).empty());  // not shmkit's: only with `all`
    CHECK(inspect_segment(name).kind == ObjectKind::symlink);

    // It blocks the name; clean never touches it; rm removes the link only.
    std::error_code ec;
    (void)NamedSharedMemory::create(name, 64, {}, ec);
    CHECK(ec == errc::already_exists);
    CHECK(remove_stale(ListOptions{{Backend::posix}, true, name, false, Scope::local}).empty());
    CHECK_FALSE(remove_if_stale(name));
    CHECK(entry_exists(shm_path(name)));
    CHECK(remove_object(name));
    CHECK_FALSE(entry_exists(shm_path(name)));
    CHECK(file_text(target) == "the target");
    CHECK_FALSE(remove_object(name));
    auto made = NamedSharedMemory::create(name, 64);
    CHECK(made.size() == 64);
  }

  TEST_CASE("FIFOs and directories in /dev/shm are listed as special, never opened") {
    test::NameGuard guard(test::unique_name("lxq"));
    const std::string fifo = guard.name() + ".fifo";
    const std::string dir = guard.name() + ".dir";
    PathGuard paths;
    REQUIRE(::mkfifo(paths.add(shm_path(fifo)).c_str(), 0600) == 0);
    REQUIRE(::mkdir(paths.add(shm_path(dir)).c_str(), 0700) == 0);
    // Opening the FIFO without O_NONBLOCK would hang the lister.
    const auto found = list_all(guard.name(), Backend::posix);
    REQUIRE(found.size() == 2);
    for (const auto& s : found) {
      CAPTURE(s.name);
      CHECK(s.kind == ObjectKind::special);
      CHECK_FALSE(s.stale);
    }
    CHECK(remove_object(fifo));
    CHECK_FALSE(entry_exists(shm_path(fifo)));
    std::error_code ec;
    CHECK_FALSE(remove_object(dir, {}, ec));
    CHECK(ec == std::errc::is_a_directory);
    CHECK(entry_exists(shm_path(dir)));
  }

  TEST_CASE("an object without a size (creator killed before sizing it) is blank; rm removes it") {
    test::NameGuard guard(test::unique_name("lx0"));
    const std::string& name = guard.name();
    const int fd = ::shm_open(("/" + name).c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    REQUIRE(fd >= 0);
    ::close(fd);
    const SegmentInfo s = inspect_segment(name);
    CHECK(s.kind == ObjectKind::raw);
    CHECK(s.state == HeaderState::blank);
    CHECK(s.os_size == 0);
    CHECK_FALSE(s.stale);
    CHECK_FALSE(remove_if_stale(name));
    CHECK(remove_object(name));
    CHECK_FALSE(entry_exists(shm_path(name)));
  }

  TEST_CASE("listing reads headers with pread: an owner that truncates its object cannot kill it") {
    test::NameGuard guard(test::unique_name("lxt"));
    const std::string& name = guard.name();
    const int fd = ::shm_open(("/" + name).c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 4096) == 0);
    // The lister runs in a child, so that a SIGBUS shows as its death.
    auto lister = test::Child::spawn("lcl_list_loop", {name, "2000"});
    std::atomic<bool> done{false};
    std::uint64_t flips = 0;
    std::thread owner([&] {
      while (!done.load()) {
        (void)!::ftruncate(fd, 0);
        (void)!::ftruncate(fd, 4096);
        ++flips;
      }
    });
    struct Stop {
      std::atomic<bool>& done;
      std::thread& owner;
      ~Stop() {
        done.store(true);
        if (owner.joinable()) owner.join();
      }
    } stop{done, owner};
    const auto status = lister.wait();
    done.store(true);
    owner.join();
    ::close(fd);
    MESSAGE("the owner truncated the object " << flips << " times while it was listed");
    CHECK(status.exited);
    CHECK(status.code == 0);
    CHECK_FALSE(status.killed);
  }
}

TEST_SUITE("cli") {
  TEST_CASE("list, info, clean, dump and create print what docs/cli.md shows") {
    if (!cli_built()) {
      MESSAGE("skipped: the shmkit tool was not built (SHMKIT_BUILD_TOOLS=OFF)");
      return;
    }
    const std::string base = test::unique_name("cg") + ".";
    test::NameGuard guard(base + "live");
    guard.add(base + "old");
    guard.add(base + "sv");
    guard.add(base + "made");

    auto live = NamedSharedMemory::create(base + "live", 4096);
    std::memcpy(live.data(), "Hello, shmkit!", 14);
    auto old_child = test::Child::spawn("lcl_create_exit", {base + "old", "posix", "100", "old"});
    const auto old_pid = old_child.pid();
    REQUIRE(old_child.wait().code == 0);
    // Killed, so that it leaves its attach slot behind (lc_create_hold is
    // in test_lifecycle.cpp).
    auto sv_child = test::Child::spawn("lc_create_hold", {base + "sv", "sysv", "64"});
    const auto sv_pid = sv_child.pid();
    REQUIRE(test::eventually([&] {
      std::error_code ec;
      return inspect_segment(base + "sv", on(Backend::sysv), ec).attached.size() == 1;
    }));
    sv_child.kill();
    sv_child.wait();

    const std::vector<std::pair<std::string, std::string>> words = {
        {base, "<BASE>."},
        {std::to_string(detail::current_process().pid), "<SELF>"},
        {std::to_string(old_pid), "<OLD>"},
        {std::to_string(sv_pid), "<SV>"}};

    const CliResult list = run_cli({"list", "--prefix", base});
    CHECK(list.code == 0);
    CHECK(list.err.empty());
    CHECK(normalise(list.out, words) ==
          "NAME BACKEND KIND STATE SIZE CREATOR ATTACHED MAPPED CREATED (UTC) STALE\n"
          "<BASE>.live posix segment ready 4096 <SELF> <SELF> 1 <TIME> no\n"
          "<BASE>.old posix segment ready 100 <OLD>(dead) - 0 <TIME> yes\n"
          "<BASE>.sv sysv segment ready 64 <SV>(dead) <SV>(dead) 0 <TIME> yes\n");
    check_aligned(list.out, {"SIZE", "MAPPED"});

    const CliResult info = run_cli({"info", base + "live"});
    CHECK(info.code == 0);
    CHECK(normalise(info.out, words) ==
          "name: <BASE>.live\n"
          "backend: posix (/<BASE>.live)\n"
          "kind: segment\n"
          "state: ready\n"
          "size: 4096 bytes (the OS object: 4608 bytes)\n"
          "owner: uid <UID>, mode 0600\n"
          "creator: pid <SELF> (running)\n"
          "created: <TIME> UTC\n"
          "attached: <SELF> (running)\n"
          "mapped by: <SELF>\n"
          "stale: no\n");

    const CliResult dump = run_cli({"dump", base + "live", "--length", "32"});
    CHECK(dump.code == 0);
    CHECK(dump.out ==
          "00000000  48 65 6c 6c 6f 2c 20 73  68 6d 6b 69 74 21 00 00  |Hello, shmkit!..|\n"
          "00000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n"
          "00000020\n");
    const CliResult tail = run_cli({"dump", base + "live", "--offset", "4090"});
    CHECK(tail.code == 0);
    CHECK(tail.out ==
          "00000ffa  00 00 00 00 00 00                                 |......|\n00001000\n");
    const CliResult past = run_cli({"dump", base + "live", "--offset", "4090", "--length", "7"});
    CHECK(past.code == 2);
    CHECK(past.out.empty());
    CHECK(past.err.find("passes the end") != std::string::npos);
    CHECK(run_cli({"dump", base + "live", "--offset", "5000"}).code == 2);

    const CliResult dry = run_cli({"clean", "--dry-run", "--prefix", base});
    CHECK(dry.code == 0);
    CHECK(normalise(dry.out, words) ==
          "would remove <BASE>.old (posix, segment, 100 bytes, creator <OLD> exited)\n"
          "would remove <BASE>.sv (sysv, segment, 64 bytes, creator <SV> exited)\n");
    const CliResult clean = run_cli({"clean", "--prefix", base});
    CHECK(clean.code == 0);
    CHECK(normalise(clean.out, words) ==
          "removed <BASE>.old (posix, segment, 100 bytes, creator <OLD> exited)\n"
          "removed <BASE>.sv (sysv, segment, 64 bytes, creator <SV> exited)\n");
    const CliResult again = run_cli({"clean", "--prefix", base});
    CHECK(again.code == 1);
    CHECK(again.out == "nothing to clean\n");
    CHECK(NamedSharedMemory::exists(base + "live"));

    const CliResult made = run_cli({"create", base + "made", "1k", "--mode", "0640"});
    CHECK(made.code == 0);
    CHECK(normalise(made.out, words) == "created <BASE>.made (posix, 1024 bytes)\n");
    const SegmentInfo info_made = inspect_segment(base + "made");
    CHECK(info_made.size == 1024);
    CHECK(info_made.permissions == 0640);
    const CliResult rm = run_cli({"rm", base + "made"});
    CHECK(rm.code == 0);
    CHECK(normalise(rm.out, words) == "removed <BASE>.made (posix, segment)\n");
    CHECK(run_cli({"rm", base + "made"}).code == 1);
  }

  TEST_CASE("bad arguments get a usage line and exit code 2, never a crash") {
    if (!cli_built()) return;
    const std::vector<std::vector<std::string>> bad = {
        {},
        {"frobnicate"},
        {"list", "--bogus"},
        {"list", "extra"},
        {"list", "--backend"},
        {"list", "--backend", "nfs"},
        {"info"},
        {"info", "a", "b"},
        {"info", "not/valid"},
        {"dump", "x", "--offset", "-1"},
        {"dump", "x", "--length", "ten"},
        {"create", "x"},
        {"create", "x", "0"},
        {"create", "x", "99999999999999999999999"},
        {"create", "x", "1k", "--mode", "999"},
        {"clean", "--json=1"},
        {"rm"},
    };
    for (const auto& args : bad) {
      std::string joined;
      for (const auto& a : args) joined += a + " ";
      CAPTURE(joined);
      const CliResult r = run_cli(args);
      CHECK(r.code == 2);
      CHECK(r.out.empty());
      CHECK(r.err.find("usage: shmkit") != std::string::npos);
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') <= 2);
    }
    const CliResult help = run_cli({"help"});
    CHECK(help.code == 0);
    CHECK(help.out.find("shmkit clean") != std::string::npos);
  }

  TEST_CASE("exit codes: 1 for a missing name, 3 for permission denied") {
    if (!cli_built()) return;
    const std::string missing = test::unique_name("cgm");
    const CliResult info = run_cli({"info", missing});
    CHECK(info.code == 1);
    CHECK(info.err.find("no segment called") != std::string::npos);
    CHECK(run_cli({"rm", missing}).code == 1);
    CHECK(run_cli({"dump", missing}).code == 1);

    if (::geteuid() != 0) {
      MESSAGE("skipped the permission case: needs root to become another user");
      return;
    }
    test::NameGuard guard(test::unique_name("cgp"));
    auto shm = NamedSharedMemory::create(guard.name(), 64);  // 0600, owned by root
    const CliResult denied = run_cli({"rm", guard.name()}, 65534);
    CHECK(denied.code == 3);
    CHECK(denied.err.find("ermission") != std::string::npos);
    CHECK(NamedSharedMemory::exists(guard.name()));
  }

  TEST_CASE(
      "names with any bytes: list --all --json is valid JSON, tables and messages escape them") {
    if (!cli_built()) return;
    const std::string base = test::unique_name("cw") + ".";
    PathGuard paths;
    // Named as any local user can name a file in /dev/shm.
    const std::vector<std::string> suffixes = {"\xff\xfe",     "esc\x1b[31mRED", "new\nline",
                                               "sp ace",       "caf\xc3\xa9",    "bs\\x1b",
                                               "c1\xc2\x9b[2J"};
    for (const auto& suffix : suffixes) plant_file(paths.add(shm_path(base + suffix)), "data");
    const std::vector<std::pair<std::string, std::string>> words = {{base, "<BASE>."}};

    const CliResult table = run_cli({"list", "--all", "--prefix", base});
    CHECK(table.code == 0);
    CHECK(terminal_safe(table.out));
    // Sorted by bytes; every escape names its byte, and a backslash of the
    // name is doubled, so "bs\\x1b" cannot be mistaken for an escape.
    CHECK(normalise(table.out, words) ==
          "NAME BACKEND KIND STATE SIZE CREATOR ATTACHED MAPPED CREATED (UTC) STALE\n"
          "<BASE>.bs\\\\x1b posix raw - 4 - - 0 - -\n"
          "<BASE>.c1\\xc2\\x9b[2J posix raw - 4 - - 0 - -\n"
          "<BASE>.caf\xc3\xa9 posix raw - 4 - - 0 - -\n"
          "<BASE>.esc\\x1b[31mRED posix raw - 4 - - 0 - -\n"
          "<BASE>.new\\nline posix raw - 4 - - 0 - -\n"
          "<BASE>.sp\\x20ace posix raw - 4 - - 0 - -\n"
          "<BASE>.\\xff\\xfe posix raw - 4 - - 0 - -\n");
    check_aligned(table.out, {"SIZE", "MAPPED"});

    const CliResult json = run_cli({"list", "--all", "--json", "--prefix", base});
    CHECK(json.code == 0);
    CHECK(valid_json(json.out));
    CHECK(terminal_safe(json.out));
    auto has = [&](const std::string& text) {
      CAPTURE(text);
      CHECK(json.out.find(text) != std::string::npos);
    };
    // Valid UTF-8 is the name itself, JSON-escaped; anything else comes as
    // U+FFFD in `name` and byte for byte in `name_hex`.
    has("\"name\": \"" + base + "esc\\u001b[31mRED\",\n      \"name_hex\": null,");
    has("\"name\": \"" + base + "new\\nline\",");
    has("\"name\": \"" + base + "caf\xc3\xa9\",");
    has("\"name\": \"" + base + "bs\\\\x1b\",");
    has("\"name\": \"" + base + "c1\\u009b[2J\",");
    std::string hex;
    for (unsigned char c : base + "\xff\xfe") {
      char pair[3];
      std::snprintf(pair, sizeof pair, "%02x", c);
      hex += pair;
    }
    has("\"name\": \"" + base + "\\ufffd\\ufffd\",\n      \"name_hex\": \"" + hex + "\",");

    // Such names are no shmkit names; saying so must not replay them.
    for (const std::string command : {"info", "rm", "dump"}) {
      const CliResult refused = run_cli({command, base + "esc\x1b[31mRED"});
      CHECK(refused.code == 2);
      CHECK(terminal_safe(refused.err));
      CHECK(refused.err.find("'" + base + "esc\\x1b[31mRED' is not a valid name") !=
            std::string::npos);
    }
    const CliResult newline = run_cli({"info", base + "new\nline"});
    CHECK(std::count(newline.err.begin(), newline.err.end(), '\n') == 2);
  }

  TEST_CASE(
      "a symlink under a name: list --all shows it, rm removes the link, create works again") {
    if (!cli_built()) return;
    test::NameGuard guard(test::unique_name("cs"));
    const std::string& name = guard.name();
    PathGuard paths;
    // As an attacker plants it: `ln -s /etc/passwd /dev/shm/NAME`.
    REQUIRE(::symlink("/etc/passwd", paths.add(shm_path(name)).c_str()) == 0);
    const std::string passwd = file_text("/etc/passwd");
    const std::vector<std::pair<std::string, std::string>> words = {{name, "<NAME>"}};

    CHECK(normalise(run_cli({"list", "--all", "--prefix", name}).out, words) ==
          "NAME BACKEND KIND STATE SIZE CREATOR ATTACHED MAPPED CREATED (UTC) STALE\n"
          "<NAME> posix symlink - - - - - - -\n");
    CHECK(run_cli({"list", "--prefix", name}).out ==
          "NAME  BACKEND  KIND  STATE  SIZE  CREATOR  ATTACHED  MAPPED  CREATED (UTC)  STALE\n");
    const CliResult info = run_cli({"info", name});
    CHECK(info.code == 0);
    CHECK(normalise(info.out, words) ==
          "name: <NAME>\n"
          "backend: posix (/<NAME>)\n"
          "kind: symlink\n"
          "state: none\n"
          "note: a symbolic link under the name, never followed; it keeps the name from being "
          "created until `shmkit rm` removes the link (not its target)\n"
          "owner: uid <UID>, mode 0777\n");
    const CliResult json = run_cli({"info", name, "--json"});
    CHECK(valid_json(json.out));
    CHECK(json.out.find("\"kind\": \"symlink\"") != std::string::npos);
    CHECK(json.out.find("\"size\": null") != std::string::npos);
    const CliResult dump = run_cli({"dump", name});
    CHECK(dump.code == 1);
    CHECK(dump.out.empty());
    CHECK(dump.err.find("never follows") != std::string::npos);

    CHECK(run_cli({"create", name, "64"}).code != 0);  // the link takes the name
    const CliResult rm = run_cli({"rm", name});
    CHECK(rm.code == 0);
    CHECK(rm.err.empty());
    CHECK(normalise(rm.out, words) == "removed <NAME> (posix, symlink)\n");
    CHECK_FALSE(entry_exists(shm_path(name)));
    CHECK(file_text("/etc/passwd") == passwd);
    CHECK(run_cli({"create", name, "64"}).code == 0);
  }

  TEST_CASE("rm and dump of an unreadable header speak of --raw and of its kind in English") {
    if (!cli_built()) return;
    test::NameGuard guard(test::unique_name("cx"));
    guard.add(guard.name() + ".k");
    guard.add(guard.name() + ".e");
    const std::string& name = guard.name();
    const std::vector<std::pair<std::string, std::string>> words = {{name, "<NAME>"}};
    SegmentOptions raw;
    raw.raw = true;
    {
      // shmkit's magic, garbage after it: a header this version cannot read.
      auto shm = NamedSharedMemory::create(name, 4096, raw);
      auto* bytes = static_cast<unsigned char*>(shm.data());
      std::mt19937 random{42};
      for (std::size_t i = 0; i < 4096; ++i) bytes[i] = static_cast<unsigned char>(random());
      const std::uint64_t magic = detail::k_segment_magic;
      std::memcpy(bytes, &magic, sizeof magic);
    }
    auto clean_words = [](const std::string& err) {
      CAPTURE(err);
      CHECK(err.find("SegmentOptions::") == std::string::npos);
      CHECK(err.find("a unknown") == std::string::npos);
      CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    };
    const CliResult rm = run_cli({"rm", name});
    CHECK(rm.code == 2);
    clean_words(rm.err);
    CHECK(normalise(rm.err, words) ==
          "shmkit: '<NAME>' (posix) has a shmkit header that this version cannot read, so shmkit "
          "cannot tell what owns it; add --raw to remove it anyway\n");
    CHECK(NamedSharedMemory::exists(name));
    const CliResult dump = run_cli({"dump", name, "--length", "8"});
    CHECK(dump.code == 0);
    clean_words(dump.err);
    CHECK(normalise(dump.err, words) ==
          "shmkit: '<NAME>' has a shmkit header that this version cannot read; dumping the whole "
          "object\n");
    const CliResult info = run_cli({"info", name});
    CHECK(normalise(info.out, words) ==
          "name: <NAME>\n"
          "backend: posix (/<NAME>)\n"
          "kind: unknown\n"
          "state: incompatible\n"
          "size: unknown: its header cannot be trusted (the OS object: 4096 bytes)\n"
          "owner: uid <UID>, mode 0600\n"
          "mapped by: no process\n"
          "stale: no\n");
    CHECK(run_cli({"rm", name, "--raw"}).code == 0);
    CHECK_FALSE(NamedSharedMemory::exists(name));

    // A whole header of a kind this version does not know.
    {
      auto shm = NamedSharedMemory::create(name + ".k", 64);
      SegmentOptions rewrite = raw;
      auto header = NamedSharedMemory::open(name + ".k", rewrite);
      static_cast<detail::SegmentHeader*>(header.data())->kind = 99;
    }
    const CliResult kind = run_cli({"rm", name + ".k"});
    CHECK(kind.code == 2);
    clean_words(kind.err);
    CHECK(kind.err.find("holds a kind of object that this version does not know") !=
          std::string::npos);

    // An object that is not a segment is named with its article.
    auto event = NamedEvent::create(name + ".e", EventReset::manual_reset);
    const CliResult event_dump = run_cli({"dump", name + ".e", "--length", "8"});
    CHECK(event_dump.code == 0);
    CHECK(normalise(event_dump.err, words) ==
          "shmkit: '<NAME>.e' is an event, not a segment; dumping the whole object\n");
  }

  TEST_CASE("info of an object the caller may not read says its size is unknown") {
    if (!cli_built()) return;
    if (::geteuid() != 0) {
      MESSAGE("skipped: needs root to become another user");
      return;
    }
    test::NameGuard guard(test::unique_name("cu"));
    auto shm = NamedSharedMemory::create(guard.name(), 4096);  // 0600, owned by root
    const std::vector<std::pair<std::string, std::string>> words = {{guard.name(), "<NAME>"}};
    const CliResult info = run_cli({"info", guard.name()}, 65534);
    CHECK(info.code == 0);
    CHECK(normalise(info.out, words) ==
          "name: <NAME>\n"
          "backend: posix (/<NAME>)\n"
          "kind: unknown\n"
          "state: unreadable\n"
          "size: unknown: its header cannot be read (the OS object: 4608 bytes)\n"
          "owner: uid <UID>, mode 0600\n"
          "mapped by: no process\n");  // as far as uid 65534 can see
    const CliResult json = run_cli({"info", guard.name(), "--json"}, 65534);
    CHECK(valid_json(json.out));
    CHECK(json.out.find("\"size\": null,\n      \"os_size\": 4608,") != std::string::npos);
    const CliResult list = run_cli({"list", "--all", "--prefix", guard.name()}, 65534);
    CHECK(normalise(list.out, words) ==
          "NAME BACKEND KIND STATE SIZE CREATOR ATTACHED MAPPED CREATED (UTC) STALE\n"
          "<NAME> posix unknown unreadable - - - 0 - -\n");
  }

  TEST_CASE("a creator killed inside creation: list shows it stale, clean and rm remove it") {
    if (!cli_built()) return;
    // posix objects on Linux are named only once finished, so a killed
    // creator leaves nothing there; a SysV creation is named from the start.
    detail::Failure no_backend;
    const Backend backend = detail::find_backend(Backend::posix, no_backend)->creates_unnamed()
                                ? Backend::sysv
                                : Backend::posix;
    const std::string b = to_string(backend);
    const std::string base = test::unique_name("ck") + ".";
    test::NameGuard guard(base + "q");
    guard.add(base + "r");
    constexpr std::size_t k_size = 1 << 20;
    auto q = stuck_creator(base + "q", backend, ObjectKind::queue, k_size);
    auto r = stuck_creator(base + "r", backend, ObjectKind::ring, 4096);
    const std::vector<std::pair<std::string, std::string>> words = {
        {base, "<BASE>."}, {std::to_string(q.pid()), "<Q>"}, {std::to_string(r.pid()), "<R>"}};
    CHECK(normalise(run_cli({"list", "--prefix", base, "--backend", b}).out, words) ==
          "NAME BACKEND KIND STATE SIZE CREATOR ATTACHED MAPPED CREATED (UTC) STALE\n"
          "<BASE>.q " +
              b +
              " queue initializing 1048576 <Q> - 1 <TIME> no\n"
              "<BASE>.r " +
              b + " ring initializing 4096 <R> - 1 <TIME> no\n");
    q.kill();
    q.wait();
    r.kill();
    r.wait();
    CHECK(normalise(run_cli({"list", "--prefix", base, "--backend", b}).out, words) ==
          "NAME BACKEND KIND STATE SIZE CREATOR ATTACHED MAPPED CREATED (UTC) STALE\n"
          "<BASE>.q " +
              b +
              " queue initializing 1048576 <Q>(dead) - 0 <TIME> yes\n"
              "<BASE>.r " +
              b + " ring initializing 4096 <R>(dead) - 0 <TIME> yes\n");
    const CliResult rm = run_cli({"rm", base + "r", "--backend", b});
    CHECK(rm.code == 0);
    CHECK(normalise(rm.out, words) == "removed <BASE>.r (" + b + ", ring)\n");
    const CliResult clean = run_cli({"clean", "--prefix", base, "--backend", b});
    CHECK(clean.code == 0);
    CHECK(normalise(clean.out, words) ==
          "removed <BASE>.q (" + b + ", queue, 1048576 bytes, creator <Q> exited)\n");
    CHECK_FALSE(NamedSharedMemory::exists(base + "q", on(backend)));
    CHECK_FALSE(NamedSharedMemory::exists(base + "r", on(backend)));
  }

  TEST_CASE("a blank object: list --all says so, clean leaves it, rm removes it after saying so") {
    if (!cli_built()) return;
    test::NameGuard guard(test::unique_name("cz"));
    const std::string& name = guard.name();
    SegmentOptions raw;
    raw.raw = true;
    NamedSharedMemory::create(name, 4096, raw).close();
    const std::vector<std::pair<std::string, std::string>> words = {{name, "<NAME>"}};
    CHECK(normalise(run_cli({"list", "--all", "--prefix", name}).out, words) ==
          "NAME BACKEND KIND STATE SIZE CREATOR ATTACHED MAPPED CREATED (UTC) STALE\n"
          "<NAME> posix raw blank 4096 - - 0 - -\n");
    const CliResult clean = run_cli({"clean", "--prefix", name});
    CHECK(clean.code == 1);
    CHECK(clean.out == "nothing to clean\n");
    const CliResult rm = run_cli({"rm", name});
    CHECK(rm.code == 0);
    CHECK(normalise(rm.err, words) ==
          "shmkit: '<NAME>' (posix) is blank (4096 bytes, all zero): a creator that died before "
          "writing its header, or another program's empty object; removing it as raw\n");
    CHECK(normalise(rm.out, words) == "removed <NAME> (posix, raw)\n");
    CHECK_FALSE(NamedSharedMemory::exists(name, raw));
  }

  TEST_CASE("a topic: list shows both segments, info its slots and pool, a dead subscriber") {
    if (!cli_built()) return;
    const std::string name = test::unique_name("ct");
    test::NameGuard guard(name);
    guard.add(name + ".p");
    TopicConfig config;
    config.sample_size = 1000;
    config.sample_count = 6;
    config.max_publishers = 2;
    config.max_subscribers = 3;
    config.max_queue_depth = 4;
    config.history = 1;
    auto topic = Topic::create(name, config);
    auto publisher = Publisher::open(name);
    SubscriberOptions options;
    options.queue_depth = 2;
    auto subscriber = Subscriber::open(name, options);
    auto child = test::Child::spawn("topic_status_holder", {name});
    REQUIRE(test::eventually([&] { return publisher.subscriber_count() == 2; }));
    const char text[] = "frame";
    for (int i = 0; i < 3; ++i) publisher.publish_copy(text, sizeof text);
    REQUIRE(test::eventually([&] {
      for (const auto& s : inspect_topic(name).subscribers) {
        if (s.pid == child.pid()) return s.held == 1 && s.queued == 0;
      }
      return false;
    }));
    child.kill();
    child.wait();
    const auto self = std::to_string(detail::current_process().pid);
    const std::vector<std::pair<std::string, std::string>> words = {
        {name, "<T>"}, {self, "<SELF>"}, {std::to_string(child.pid()), "<CHILD>"}};

    const CliResult list = run_cli({"list", "--prefix", name});
    CHECK(list.code == 0);
    const std::string listed = normalise(list.out, words);
    CHECK(listed.find("<T> posix topic ready") != std::string::npos);
    CHECK(listed.find("<T>.p posix topic_pool ready") != std::string::npos);

    const CliResult info = run_cli({"info", name});
    CHECK(info.code == 0);
    CHECK(info.err.empty());
    const std::string shown = normalise(info.out, words);
    const auto at = shown.find("config:");
    REQUIRE(at != std::string::npos);
    CHECK(shown.substr(at) ==
          "config: samples of up to 1000 bytes, 2 publishers, 3 subscribers, queue depth 4, "
          "history 1\n"
          "pool: 6 samples of 1088 bytes (6592 bytes in '<T>.p')\n"
          "samples: 3 in use (0 on loan, 1 kept for history), 3 free\n"
          "published: 3\n"
          "publishers: 1\n"
          " SLOT PID STATE GENERATION LOANS\n"
          " 0 <SELF> running 1 0\n"
          "subscribers: 2\n"
          " SLOT PID STATE GENERATION QUEUED DEPTH POLICY DROPPED HELD\n"
          " 0 <SELF> running 1 2 2 drop_oldest 1 2\n"
          " 1 <CHILD> dead 2 0 4 drop_oldest 0 1\n");

    const CliResult pool = run_cli({"info", name + ".p"});
    CHECK(pool.code == 0);
    CHECK(normalise(pool.out, words).find("note: the sample pool of topic '<T>'") !=
          std::string::npos);

    const CliResult json = run_cli({"info", name, "--json"});
    CHECK(json.code == 0);
    const std::string doc = normalise(json.out, words);
    CHECK(doc.find("\"topic\": {\"sample_size\": 1000, \"sample_count\": 6,") != std::string::npos);
    CHECK(doc.find("{\"slot\": 1, \"pid\": <CHILD>, \"alive\": false, \"generation\": 2, "
                   "\"queued\": 0, \"queue_depth\": 4, \"overflow\": \"drop_oldest\", "
                   "\"dropped\": 0, \"held\": 1}") != std::string::npos);

    // Garbage: the segment is still described, the topic's state is not.
    {
      SegmentOptions raw;
      raw.raw = true;
      auto scribble = NamedSharedMemory::open(name, raw);
      auto* control = reinterpret_cast<detail::TopicControl*>(
          static_cast<unsigned char*>(scribble.data()) + detail::k_header_size +
          sizeof(detail::SyncPreamble) + detail::k_topic_state_offset);
      control->config.max_queue_depth = 0;
    }
    const CliResult broken = run_cli({"info", name});
    CHECK(broken.code == 1);
    CHECK(broken.out.find("kind:        topic") != std::string::npos);
    CHECK(broken.out.find("config:") == std::string::npos);
    CHECK(broken.err.find("is corrupted") != std::string::npos);
  }
}
