// What only Linux can tell about segments (/proc maps, SysV nattch and
// "dest"), and the `shmkit` tool's output, exit codes and bad-argument
// handling, checked by running the built binary.
#include <doctest/doctest.h>

#include <shmkit/lifecycle.hpp>
#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"
#include "common/process_identity.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace shmkit;

namespace {

Options on(Backend backend) {
  Options options;
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
void check_aligned(const std::string& table, const std::vector<std::string>& right_aligned) {
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
  Options options = on(args.at(1) == "sysv" ? Backend::sysv : Backend::posix);
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
  auto ring = Ring::create(args.at(0), RingRole::consumer, 4096);
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
      if (backend == Backend::sysv) CHECK(s.sysv->attach_count == 1);

      reader.kill();
      reader.wait();
      CHECK(inspect_segment(name, on(backend)).stale);
      CHECK(remove_if_stale(name, on(backend)));
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
}
