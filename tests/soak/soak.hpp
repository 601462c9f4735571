// The kill -9 soak: processes in every role (ring, channel, server, queue,
// mutex, topic) are killed at random points, again and again, while the survivors
// and their successors check that no committed message was lost, duplicated
// or corrupted, that mutual exclusion held, that no wait passed its deadline,
// and that `remove_stale` leaves nothing behind. Linux only.
//
// Every process that takes part is this binary, re-launched with
// `--role NAME args...`. Roles report through a control segment that the
// driver creates per scenario (a Figures block, heartbeats, and whatever the
// scenario needs to account for messages across deaths).
#pragma once

#include <shmkit/shmkit.hpp>

#include <sys/types.h>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace shmkit::soak {

using Clock = std::chrono::steady_clock;

// How late a wait may return past its deadline before it counts: generous,
// since the soak shares two cores with whatever else runs.
inline constexpr auto k_late = std::chrono::seconds(1);
// A role that makes no progress for this long is hung (every wait in the
// roles is bounded far below it).
inline constexpr auto k_hang = std::chrono::seconds(5);

// What a scenario found. Lives in the control segment, written by every role.
struct Figures {
  std::atomic<std::uint64_t> checked;     // messages (or locks) verified
  std::atomic<std::uint64_t> lost;        // committed, never delivered
  std::atomic<std::uint64_t> duplicated;  // delivered twice
  std::atomic<std::uint64_t> corrupt;     // a checksum or a sequence that is wrong
  std::atomic<std::uint64_t> late_waits;  // returned more than k_late after its deadline
  std::atomic<std::uint64_t> broken;      // mutual exclusion violated
  std::atomic<std::uint64_t> errors;      // unexpected errors from the library
  std::atomic<std::uint64_t> heartbeat[8];
};

// The control segment's first bytes are always a Figures block.
inline constexpr std::size_t k_max_roles = 8;

// Budget and randomness of one scenario.
struct Budget {
  std::chrono::milliseconds duration;
  std::uint64_t max_kills;
  std::mt19937_64* random;
};

struct Result {
  std::string scenario;
  std::uint64_t kills = 0;
  std::uint64_t checked = 0;
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t corrupt = 0;
  std::uint64_t late_waits = 0;
  std::uint64_t broken = 0;
  std::uint64_t errors = 0;
  std::uint64_t hangs = 0;
  std::uint64_t stalls = 0;  // queue: documented stalls (a death inside push/pop)
  std::uint64_t leaked = 0;  // topic: pool samples that never came back
  std::string extra;         // scenario-specific counts, printed before the verdict
  std::vector<std::string> left_behind;
  std::string unit = "messages";
  bool ok() const {
    return lost == 0 && duplicated == 0 && corrupt == 0 && late_waits == 0 && broken == 0 &&
           errors == 0 && hangs == 0 && leaked == 0 && left_behind.empty();
  }
};

// A role process: posix_spawn of this binary with --role.
class Process {
 public:
  Process() = default;
  Process(Process&& other) noexcept { *this = std::move(other); }
  Process& operator=(Process&& other) noexcept;
  ~Process();
  static Process spawn(const std::string& role, const std::vector<std::string>& args);
  bool running() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }
  // SIGKILL and reap.
  void kill_and_reap() noexcept;
  // Reaps it if it has exited on its own; true if it had (exit status in
  // `code`, or 128 + signal).
  bool exited(int& code) noexcept;

 private:
  pid_t pid_ = -1;
};

// A role: runs in a child, returns its exit code.
using RoleFunction = int (*)(const std::vector<std::string>& args);
bool register_role(const char* name, RoleFunction function);
#define SHMKIT_SOAK_ROLE(role)                                       \
  static int role##_soak_role(const std::vector<std::string>& args); \
  [[maybe_unused]] static const bool role##_soak_role_registered =   \
      ::shmkit::soak::register_role(#role, &role##_soak_role);       \
  static int role##_soak_role([[maybe_unused]] const std::vector<std::string>& args)

// A scenario: runs in the driver.
using ScenarioFunction = Result (*)(const std::string& prefix, const Budget& budget);
bool register_scenario(const char* name, ScenarioFunction function, int share);
#define SHMKIT_SOAK_SCENARIO(name, share)                                                   \
  static ::shmkit::soak::Result name##_soak_scenario(const std::string& prefix,             \
                                                     const ::shmkit::soak::Budget& budget); \
  [[maybe_unused]] static const bool name##_soak_scenario_registered =                      \
      ::shmkit::soak::register_scenario(#name, &name##_soak_scenario, share);               \
  static ::shmkit::soak::Result name##_soak_scenario(const std::string& prefix,             \
                                                     const ::shmkit::soak::Budget& budget)

// A control segment of `size` bytes (at least a Figures block), made by the
// driver and opened by the roles.
NamedSharedMemory create_control(const std::string& name, std::size_t size);
NamedSharedMemory open_control(const std::string& name);
inline Figures& figures(const NamedSharedMemory& control) {
  return *static_cast<Figures*>(control.data());
}
// Copies the figures into a result.
void collect(const Figures& figures, Result& result);

// Runs `wait` (a call with a deadline `deadline` from now), counting it in
// late_waits if it returns more than k_late after that deadline.
template <typename Wait>
auto bounded_wait(Figures& figures, Deadline deadline, const char* what, Wait&& wait) {
  struct Check {
    Figures& figures;
    Deadline deadline;
    const char* what;
    ~Check() {
      const auto now = Clock::now();
      if (deadline != k_forever && now > deadline + k_late) {
        figures.late_waits.fetch_add(1);
        std::fprintf(
            stderr, "soak: %s returned %lld ms after its deadline\n", what,
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(now - deadline).count()));
      }
    }
  } check{figures, deadline, what};
  return wait();
}

// Reports an unexpected library error from a role, once per kind of message.
void report_error(Figures& figures, const char* role, const std::string& message);

// Opens a role's handle with `open(ec)`, retrying for 3 s while a peer is
// still creating or reclaiming it (beating `heartbeat` so the driver sees
// progress); then reports the error and exits with 3.
template <typename Open>
auto open_with_retry(Figures& figures, std::atomic<std::uint64_t>& heartbeat, const char* who,
                     Open&& open) {
  const auto give_up = Clock::now() + std::chrono::seconds(3);
  for (;;) {
    std::error_code ec;
    auto handle = open(ec);
    if (!ec) return handle;
    heartbeat.fetch_add(1);
    if (Clock::now() > give_up) {
      report_error(figures, who, "cannot open: " + error_message(ec));
      std::exit(3);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// The processes of one scenario, each restarted after every kill. A slot's
// arguments are computed afresh for every start (an incarnation number is
// appended by the driver).
struct Slot {
  std::string role;
  std::function<std::vector<std::string>()> args;
  Process process;
  std::uint64_t incarnation = 0;
  std::uint64_t last_beat = 0;
  Clock::time_point last_change{};
};

class Cast {
 public:
  Cast(Figures& figures, Result& result) : figures_(figures), result_(result) {}
  // Adds a slot; heartbeats are figures.heartbeat[index].
  void add(std::string role, std::function<std::vector<std::string>()> args);
  void start_all();
  // Kills a random slot (weights per slot) every few milliseconds until the
  // budget is spent or `stop` says so, restarting it each time and watching
  // for hangs and unexpected exits. `on_kill` runs after a kill is reaped,
  // before the restart.
  void run(const Budget& budget, const std::vector<int>& weights,
           const std::function<bool()>& stop = {},
           const std::function<void(std::size_t)>& on_kill = {});
  // Kills everything, no restart.
  void kill_all();
  Slot& slot(std::size_t i) { return slots_[i]; }
  std::size_t size() const { return slots_.size(); }
  // Restart slot `i` now (after kill_and_reap).
  void restart(std::size_t i);
  // Checks slot `i` for a hang or an unexpected exit; restarts it if so.
  void watch(std::size_t i);

 private:
  Figures& figures_;
  Result& result_;
  std::vector<Slot> slots_;
};

// remove_stale() for every object under `prefix`, then the names still
// listed (list_segments with `all`), which it then removes by force; `keep`
// (the control segment) is left alone.
std::vector<std::string> clean_and_list(const std::string& prefix, const std::string& keep);

// A checksum over a message body.
std::uint64_t checksum(const void* data, std::size_t size, std::uint64_t seed);

// The incarnation number a role was started with (its last argument).
std::uint64_t incarnation(const std::vector<std::string>& args);

// The driver's own verbose flag (--verbose).
bool verbose();

}  // namespace shmkit::soak
