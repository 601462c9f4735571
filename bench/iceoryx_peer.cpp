// See iceoryx_peer.hpp.
#include "iceoryx_peer.hpp"

#include <iceoryx_hoofs/log/logmanager.hpp>
#include <iceoryx_posh/popo/publisher.hpp>
#include <iceoryx_posh/popo/subscriber.hpp>
#include <iceoryx_posh/runtime/posh_runtime.hpp>

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace shmkit::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct IoxMessage {
  std::uint64_t sequence;
  std::uint8_t payload[IceoryxPingPong::k_message_size - sizeof(std::uint64_t)];
};
static_assert(sizeof(IoxMessage) == IceoryxPingPong::k_message_size);

constexpr std::uint64_t k_stop = ~std::uint64_t{0};
constexpr const char* k_peer_flag = "--shmkit-iceoryx-peer";
// RouDi's socket (iceoryx 2.0: IOX_UDS_SOCKET_PATH_PREFIX + "roudi").
constexpr const char* k_roudi_socket = "/tmp/roudi";
constexpr auto k_start_timeout = std::chrono::seconds(10);

iox::capro::IdString_t id(const std::string& text) {
  return iox::capro::IdString_t(iox::cxx::TruncateToCapacity, text.c_str(), text.size());
}

iox::RuntimeName_t runtime_name(const std::string& text) {
  return iox::RuntimeName_t(iox::cxx::TruncateToCapacity, text.c_str(), text.size());
}

// Registers this process with RouDi, logging only warnings and errors (the
// default level prints a few lines per process on stderr).
void start_runtime(const std::string& name) {
  iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kWarn,
                                                           iox::log::LogLevelOutput::kHideLogLevel);
  iox::runtime::PoshRuntime::initRuntime(runtime_name(name));
}

iox::capro::ServiceDescription service(const std::string& instance, const char* event) {
  return {id("shmkit-bench"), id(instance), id(event)};
}

// True once something listens on RouDi's socket (a stale socket file of a
// dead RouDi refuses the connection).
bool roudi_listening() {
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, k_roudi_socket, sizeof address.sun_path - 1);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

// Forks and executes `argv` (argv[0] a path). In the child: gets `death`
// when this process dies (PR_SET_PDEATHSIG), writes its standard output to
// standard error (RouDi talks on stdout, where the benchmark may be writing
// its JSON), and is pinned as `pinning` pins children, or (null) may run on
// every CPU: the parent is pinned to one while a benchmark runs, and RouDi,
// started then, must not stay on the parent's CPU for the later ones.
// -1 if fork failed.
pid_t launch(const std::vector<std::string>& arguments, const Pinning* pinning, int death) {
  std::vector<char*> argv;
  for (const auto& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, death);
  if (::getppid() != parent) ::_exit(127);
  ::dup2(STDERR_FILENO, STDOUT_FILENO);
  if (pinning != nullptr) {
    pinning->pin_child();
  } else {
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &all);
    ::sched_setaffinity(0, sizeof all, &all);
  }
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

bool exited(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

// RouDi, started by the first iceoryx benchmark and stopped at exit (after
// this process's runtime has unregistered: RouDi sends SIGTERM to every
// process still registered when it shuts down).
class Roudi {
 public:
  static Roudi& instance() {
    static Roudi roudi;
    return roudi;
  }
  // Starts RouDi and this process's runtime, once. Throws if either fails.
  void ensure_running() {
    if (runtime_ready_) return;
    if (!error_.empty()) throw std::runtime_error(error_);
    if (roudi_listening()) {
      fail("a RouDi not started by this benchmark is running (" + std::string(k_roudi_socket) +
           "): stop it first");
    }
    // The stop handler first: atexit handlers and static destructors run in
    // reverse order, so the runtime (created below) goes before RouDi.
    std::atexit(&Roudi::stop_at_exit);
    // SIGTERM if the benchmark dies: RouDi then removes its shared memory.
    pid_ = launch({ICEORYX_ROUDI_PATH, "--log-level", "warning", "--monitoring-mode", "off"},
                  nullptr, SIGTERM);
    if (pid_ < 0) fail("cannot fork iox-roudi");
    const auto deadline = Clock::now() + k_start_timeout;
    while (!roudi_listening()) {
      if (exited(pid_)) {
        pid_ = -1;
        fail("iox-roudi (" ICEORYX_ROUDI_PATH ") exited at start");
      }
      if (Clock::now() > deadline) fail("iox-roudi did not open its socket within 10 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const std::string name = "shmkit-bench-" + std::to_string(::getpid());
    start_runtime(name);
    runtime_ready_ = true;
  }

 private:
  [[noreturn]] void fail(const std::string& why) {
    error_ = why;
    throw std::runtime_error(why);
  }
  static void stop_at_exit() {
    Roudi& roudi = instance();
    if (roudi.pid_ <= 0) return;
    ::kill(roudi.pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!exited(roudi.pid_)) {
      if (Clock::now() > deadline) {
        ::kill(roudi.pid_, SIGKILL);
        ::waitpid(roudi.pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    roudi.pid_ = -1;
  }

  pid_t pid_ = -1;
  bool runtime_ready_ = false;
  std::string error_;
};

std::atomic<unsigned> g_pairs{0};

void relax_spin() {
  relax();
}

// The echo loop of a re-executed peer.
int run_peer(bool zero_copy, const std::string& instance) {
  const std::string name = "shmkit-bench-peer-" + std::to_string(::getpid());
  start_runtime(name);
  iox::popo::Subscriber<IoxMessage> in(service(instance, "ping"));
  iox::popo::Publisher<IoxMessage> out(service(instance, "pong"));
  for (;;) {
    IoxMessage message{};
    for (bool got = false; !got;) {
      in.take()
          .and_then([&](auto& sample) {
            message = *sample;
            got = true;
          })
          .or_else([](auto&) { relax_spin(); });
    }
    if (message.sequence == k_stop) return 0;
    if (zero_copy) {
      bool sent = false;
      while (!sent) {
        out.loan()
            .and_then([&](auto& sample) {
              *sample = message;
              sample.publish();
              sent = true;
            })
            .or_else([](auto&) { relax_spin(); });
      }
    } else {
      while (out.publishCopyOf(message).has_error()) relax_spin();
    }
  }
}

}  // namespace

bool run_iceoryx_peer_if_asked(int argc, char** argv, int& status) {
  if (argc != 4 || std::strcmp(argv[1], k_peer_flag) != 0) return false;
  try {
    status = run_peer(std::strcmp(argv[2], "zero_copy") == 0, argv[3]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "iceoryx peer: %s\n", e.what());
    status = 1;
  }
  return true;
}

std::string iceoryx_description() {
  return "yes (iceoryx " ICEORYX_VERSION_TEXT ", RouDi " ICEORYX_ROUDI_PATH
         " started by the benchmark)";
}

struct IceoryxPingPong::Impl {
  bool zero_copy;
  std::string instance;
  std::optional<iox::popo::Publisher<IoxMessage>> ping;
  std::optional<iox::popo::Subscriber<IoxMessage>> pong;
  pid_t peer = -1;

  void send(const IoxMessage& message) {
    if (zero_copy) {
      for (bool sent = false; !sent;) {
        ping->loan()
            .and_then([&](auto& sample) {
              *sample = message;
              sample.publish();
              sent = true;
            })
            .or_else([](auto&) { relax_spin(); });
      }
    } else {
      while (ping->publishCopyOf(message).has_error()) relax_spin();
    }
  }
  void receive(IoxMessage& message) {
    for (bool got = false; !got;) {
      pong->take()
          .and_then([&](auto& sample) {
            message = *sample;
            got = true;
          })
          .or_else([](auto&) { relax_spin(); });
      if (!got && peer > 0 && exited(peer)) {
        peer = -1;
        throw std::runtime_error("the iceoryx peer exited");
      }
    }
  }
};

IceoryxPingPong::IceoryxPingPong(bool zero_copy, const Pinning& pinning) : impl_(new Impl) {
  Roudi::instance().ensure_running();
  impl_->zero_copy = zero_copy;
  impl_->instance = std::to_string(::getpid()) + "-" + std::to_string(++g_pairs);
  impl_->ping.emplace(service(impl_->instance, "ping"));
  impl_->pong.emplace(service(impl_->instance, "pong"));
  char self[4096];
  const ssize_t length = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (length <= 0) throw std::runtime_error("cannot read /proc/self/exe");
  self[length] = '\0';
  impl_->peer = launch({self, k_peer_flag, zero_copy ? "zero_copy" : "copy", impl_->instance},
                       &pinning, SIGKILL);
  if (impl_->peer < 0) throw std::runtime_error("cannot fork the iceoryx peer");
  // Both directions connected: RouDi's discovery loop links ports within
  // some tens of milliseconds.
  const auto deadline = Clock::now() + k_start_timeout;
  while (!impl_->ping->hasSubscribers() ||
         impl_->pong->getSubscriptionState() != iox::SubscribeState::SUBSCRIBED) {
    if (exited(impl_->peer)) {
      impl_->peer = -1;
      throw std::runtime_error("the iceoryx peer exited before it connected");
    }
    if (Clock::now() > deadline) throw std::runtime_error("the iceoryx peer did not connect");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

IceoryxPingPong::~IceoryxPingPong() {
  if (impl_->peer > 0) {
    ::kill(impl_->peer, SIGKILL);
    ::waitpid(impl_->peer, nullptr, 0);
  }
}

void IceoryxPingPong::exchange(void* message) {
  IoxMessage m;
  std::memcpy(&m, message, sizeof m);
  impl_->send(m);
  impl_->receive(m);
  std::memcpy(message, &m, sizeof m);
}

void IceoryxPingPong::stop() {
  IoxMessage message{};
  message.sequence = k_stop;
  impl_->send(message);
  // The peer unregisters from RouDi on its way out; the destructor kills it
  // if that takes too long.
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (impl_->peer > 0 && Clock::now() < deadline) {
    if (exited(impl_->peer))
      impl_->peer = -1;
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace shmkit::bench
