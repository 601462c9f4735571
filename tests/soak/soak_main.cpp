// The soak driver: `shmkit_soak [--seconds N] [--kills N] [--only a,b]
// [--seed N] [--verbose]`. Runs every scenario for its share of the time,
// prints what each found, and exits non-zero on any loss, corruption,
// duplicate, broken exclusion, late wait, hang, unexpected error or leftover.
#include "soak.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

extern char** environ;

namespace shmkit::soak {
namespace {

std::map<std::string, RoleFunction>& roles() {
  static std::map<std::string, RoleFunction> all;
  return all;
}

struct ScenarioEntry {
  std::string name;
  ScenarioFunction function;
  int share;
};

std::vector<ScenarioEntry>& scenarios() {
  static std::vector<ScenarioEntry> all;
  return all;
}

std::string& self_path() {
  static std::string path;
  return path;
}

bool& verbose_flag() {
  static bool flag = false;
  return flag;
}

}  // namespace

bool verbose() {
  return verbose_flag();
}

bool register_role(const char* name, RoleFunction function) {
  roles().emplace(name, function);
  return true;
}

bool register_scenario(const char* name, ScenarioFunction function, int share) {
  scenarios().push_back({name, function, share});
  return true;
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

Process::~Process() {
  kill_and_reap();
}

Process Process::spawn(const std::string& role, const std::vector<std::string>& args) {
  std::vector<std::string> storage{self_path(), "--role", role};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  Process process;
  const int rc =
      ::posix_spawn(&process.pid_, self_path().c_str(), nullptr, nullptr, argv.data(), environ);
  if (rc != 0) {
    std::fprintf(stderr, "soak: posix_spawn failed: %s\n", std::strerror(rc));
    std::exit(2);
  }
  return process;
}

void Process::kill_and_reap() noexcept {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

bool Process::exited(int& code) noexcept {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  pid_ = -1;
  return true;
}

NamedSharedMemory create_control(const std::string& name, std::size_t size) {
  return NamedSharedMemory::create(name, std::max(size, sizeof(Figures)));
}

NamedSharedMemory open_control(const std::string& name) {
  return NamedSharedMemory::open(name);
}

void collect(const Figures& figures, Result& result) {
  result.checked = figures.checked.load();
  result.lost = figures.lost.load();
  result.duplicated = figures.duplicated.load();
  result.corrupt = figures.corrupt.load();
  result.late_waits = figures.late_waits.load();
  result.broken = figures.broken.load();
  result.errors = figures.errors.load();
}

void report_error(Figures& figures, const char* role, const std::string& message) {
  figures.errors.fetch_add(1);
  static std::mutex lock;
  static std::set<std::string> seen;
  std::lock_guard<std::mutex> guard(lock);
  if (seen.insert(message).second) std::fprintf(stderr, "soak: %s: %s\n", role, message.c_str());
}

std::uint64_t checksum(const void* data, std::size_t size, std::uint64_t seed) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::uint64_t sum = seed ^ 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < size; ++i) sum = (sum ^ bytes[i]) * 0x100000001b3ULL;
  return sum;
}

std::uint64_t incarnation(const std::vector<std::string>& args) {
  return args.empty() ? 0 : std::stoull(args.back());
}

void Cast::add(std::string role, std::function<std::vector<std::string>()> args) {
  Slot slot;
  slot.role = std::move(role);
  slot.args = std::move(args);
  slots_.push_back(std::move(slot));
}

void Cast::restart(std::size_t i) {
  Slot& s = slots_[i];
  std::vector<std::string> args = s.args();
  args.push_back(std::to_string(s.incarnation++));
  s.process = Process::spawn(s.role, args);
  s.last_beat = figures_.heartbeat[i].load();
  s.last_change = Clock::now();
}

void Cast::start_all() {
  for (std::size_t i = 0; i < slots_.size(); ++i) restart(i);
}

void Cast::watch(std::size_t i) {
  Slot& s = slots_[i];
  int code = 0;
  if (s.process.exited(code)) {
    // Roles run until killed: an exit is an error they reported on stderr.
    result_.errors += 1;
    std::fprintf(stderr, "soak: %s (slot %zu) exited on its own with %d\n", s.role.c_str(), i,
                 code);
    restart(i);
    return;
  }
  const std::uint64_t beat = figures_.heartbeat[i].load();
  const auto now = Clock::now();
  if (beat != s.last_beat) {
    s.last_beat = beat;
    s.last_change = now;
  } else if (now - s.last_change > k_hang) {
    result_.hangs += 1;
    std::fprintf(
        stderr, "soak: HANG: %s (slot %zu, pid %d) made no progress for %lld s; killing it\n",
        s.role.c_str(), i, static_cast<int>(s.process.pid()),
        static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(k_hang).count()));
    s.process.kill_and_reap();
    restart(i);
  }
}

void Cast::run(const Budget& budget, const std::vector<int>& weights,
               const std::function<bool()>& stop, const std::function<void(std::size_t)>& on_kill) {
  const auto end = Clock::now() + budget.duration;
  std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
  std::uniform_int_distribution<int> pause_us(500, 25000);
  while (Clock::now() < end && result_.kills < budget.max_kills && !(stop && stop())) {
    // Sleep in small steps so that hangs and exits are noticed on time.
    const auto wake = Clock::now() + std::chrono::microseconds(pause_us(*budget.random));
    while (Clock::now() < wake) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      for (std::size_t i = 0; i < slots_.size(); ++i) watch(i);
    }
    const std::size_t victim = pick(*budget.random);
    slots_[victim].process.kill_and_reap();
    result_.kills += 1;
    if (on_kill) on_kill(victim);
    restart(victim);
  }
}

void Cast::kill_all() {
  for (Slot& s : slots_) s.process.kill_and_reap();
}

std::vector<std::string> clean_and_list(const std::string& prefix, const std::string& keep) {
  ListOptions list;
  list.name_prefix = prefix;
  std::error_code ec;
  remove_stale(list, ec);
  if (ec) std::fprintf(stderr, "soak: remove_stale failed: %s\n", ec.message().c_str());
  list.all = true;
  std::vector<std::string> left;
  for (const SegmentInfo& info : list_segments(list, ec)) {
    if (info.name == keep) continue;
    left.push_back(info.name + " (" + to_string(info.kind) + ", " + to_string(info.state) +
                   (info.stale ? ", stale" : "") + ")");
    // Reported; now out of the way, so that a failed run leaves nothing behind.
    SegmentOptions raw;
    raw.raw = true;
    std::error_code ignored;
    remove_object(info.name, {}, ignored);
    remove_object(info.name, raw, ignored);
  }
  return left;
}

}  // namespace shmkit::soak

namespace {

using namespace shmkit::soak;

void print(const Result& r) {
  std::printf(
      "soak %-8s %5llu kills survived, %9llu %s checked, %llu lost, %llu duplicated, %llu "
      "corrupt, %llu late waits, %llu hangs, %llu errors",
      r.scenario.c_str(), static_cast<unsigned long long>(r.kills),
      static_cast<unsigned long long>(r.checked), r.unit.c_str(),
      static_cast<unsigned long long>(r.lost), static_cast<unsigned long long>(r.duplicated),
      static_cast<unsigned long long>(r.corrupt), static_cast<unsigned long long>(r.late_waits),
      static_cast<unsigned long long>(r.hangs), static_cast<unsigned long long>(r.errors));
  if (r.broken != 0)
    std::printf(", %llu EXCLUSION BROKEN", static_cast<unsigned long long>(r.broken));
  if (r.stalls != 0) {
    std::printf(", %llu documented stalls", static_cast<unsigned long long>(r.stalls));
  }
  if (r.leaked != 0) {
    std::printf(", %llu POOL SAMPLES LEAKED", static_cast<unsigned long long>(r.leaked));
  }
  std::printf("%s%s\n", r.extra.c_str(), r.ok() ? ": ok" : ": FAILED");
  for (const std::string& name : r.left_behind)
    std::printf("  left behind after clean: %s\n", name.c_str());
  std::fflush(stdout);
}

int usage() {
  std::fprintf(stderr,
               "usage: shmkit_soak [--seconds N] [--kills N] [--only NAME,...] [--seed N] "
               "[--verbose]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  shmkit::soak::self_path() = n > 0 ? std::string(self, static_cast<std::size_t>(n)) : argv[0];
  if (argc >= 3 && std::strcmp(argv[1], "--role") == 0) {
    const auto found = shmkit::soak::roles().find(argv[2]);
    if (found == shmkit::soak::roles().end()) return 100;
    try {
      return found->second(std::vector<std::string>(argv + 3, argv + argc));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "soak: role %s threw: %s\n", argv[2], e.what());
      return 101;
    }
  }

  double seconds = 60;
  std::uint64_t max_kills = 20000;
  std::set<std::string> only;
  std::uint64_t seed = std::random_device{}();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--verbose") {
      shmkit::soak::verbose_flag() = true;
      continue;
    }
    if (i + 1 >= argc) return usage();
    const std::string value = argv[++i];
    if (arg == "--seconds") {
      seconds = std::stod(value);
    } else if (arg == "--kills") {
      max_kills = std::stoull(value);
    } else if (arg == "--seed") {
      seed = std::stoull(value);
    } else if (arg == "--only") {
      std::size_t start = 0;
      while (start <= value.size()) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        only.insert(value.substr(start, comma - start));
        start = comma + 1;
      }
    } else {
      return usage();
    }
  }

  std::vector<shmkit::soak::ScenarioEntry> chosen;
  int shares = 0;
  for (const auto& entry : shmkit::soak::scenarios()) {
    if (!only.empty() && only.count(entry.name) == 0) continue;
    chosen.push_back(entry);
    shares += entry.share;
  }
  if (chosen.empty()) return usage();
  std::sort(chosen.begin(), chosen.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::printf("soak: %.0f s, at most %llu kills, seed %llu\n", seconds,
              static_cast<unsigned long long>(max_kills), static_cast<unsigned long long>(seed));
  std::mt19937_64 random(seed);
  char prefix_text[32];
  std::snprintf(prefix_text, sizeof prefix_text, "sk%x", static_cast<unsigned>(::getpid()));

  Result total;
  total.scenario = "total";
  bool ok = true;
  const auto started = Clock::now();
  for (const auto& entry : chosen) {
    const Budget budget{
        std::chrono::milliseconds(static_cast<long long>(seconds * 1000 * entry.share / shares)),
        std::max<std::uint64_t>(
            1, max_kills * static_cast<unsigned>(entry.share) / static_cast<unsigned>(shares)),
        &random};
    const std::string prefix = std::string(prefix_text) + entry.name.substr(0, 2);
    Result result = entry.function(prefix, budget);
    result.scenario = entry.name;
    print(result);
    ok = ok && result.ok();
    total.kills += result.kills;
    if (result.unit != "locks") total.checked += result.checked;
    total.lost += result.lost;
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::printf(
      "soak: %llu kills survived, %llu messages checked, %llu lost in %.1f s: %s\n",
      static_cast<unsigned long long>(total.kills), static_cast<unsigned long long>(total.checked),
      static_cast<unsigned long long>(total.lost), took.count() / 1000.0, ok ? "passed" : "FAILED");
  return ok ? 0 : 1;
}
