#include "fuzz_support.hpp"

#include "segment/segment_header.hpp"
#include "sync/sync_segment.hpp"

#include <unistd.h>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace shmkit::fuzz {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// One armed call at a time: the targets are single-threaded apart from the
// watchdog itself (and the server target's helper, which does not arm it).
struct Watchdog {
  std::atomic<std::int64_t> armed_at{0};  // steady-clock ns; 0 = disarmed
  std::atomic<std::int64_t> limit_ns{0};
  std::atomic<const char*> what{nullptr};
  // Set by whichever notices an overrun first (this thread, or the call
  // returning late), so that only one of them aborts and libFuzzer's crash
  // handler can save the input undisturbed.
  std::atomic<bool> fired{false};

  Watchdog() {
    std::thread([this] {
      for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const std::int64_t since = armed_at.load();
        if (since == 0) continue;
        const std::int64_t limit = limit_ns.load();
        // Another call may have been armed in between: then `limit` is not
        // this one's. Arming stores the limit first, disarming clears the time.
        if (armed_at.load() != since) continue;
        const std::int64_t now = now_ns();
        if (now - since > limit) {
          if (fired.exchange(true)) return;
          std::fprintf(stderr,
                       "fuzz: '%s' has not returned after %lld ms (its limit is %lld ms): a "
                       "wait past its deadline, or a hang\n",
                       what.load(), static_cast<long long>((now - since) / 1000000),
                       static_cast<long long>(limit / 1000000));
          std::abort();
        }
      }
    }).detach();
  }
};

Watchdog& watchdog() {
  static Watchdog* dog = new Watchdog();  // never destroyed: its thread outlives main
  return *dog;
}

}  // namespace

void Input::apply(std::byte* mapping, std::size_t mapping_size,
                  std::size_t state_offset) const noexcept {
  if (mapping == nullptr || mapping_size == 0) return;
  if (state_offset >= mapping_size) state_offset = 0;
  std::size_t at = 1;
  while (at + 3 <= size_) {
    const unsigned offset = (unsigned{data_[at]} << 8) | data_[at + 1];
    std::size_t length = data_[at + 2];
    at += 3;
    if (length > size_ - at) length = size_ - at;
    const bool from_state = (offset & 0x8000) != 0;
    const std::size_t base = from_state ? state_offset : 0;
    const std::size_t region = mapping_size - base;
    std::size_t target = base + (offset & 0x7fff) % region;
    for (std::size_t i = 0; i < length; ++i) {
      mapping[target] = static_cast<std::byte>(data_[at + i]);
      if (++target == mapping_size) target = base;
    }
    at += length;
  }
}

std::string next_name(const char* tag) {
  static unsigned counter = 0;
  char text[32];
  std::snprintf(text, sizeof text, "fz%.2s%x-%x", tag, static_cast<unsigned>(::getpid()),
                counter++);
  return text;
}

SegmentOptions quick_options(Backend backend) {
  SegmentOptions options;
  options.backend = backend;
  options.open_timeout = k_short;
  return options;
}

void scribble(const std::string& name, const Input& input, std::size_t state_offset,
              Backend backend) {
  SegmentOptions raw = quick_options(backend);
  raw.raw = true;
  std::error_code ec;
  auto bytes = NamedSharedMemory::open(name, raw, ec);
  if (ec) return;
  input.apply(static_cast<std::byte*>(bytes.data()), bytes.size(), state_offset);
}

std::size_t sync_state_offset() noexcept {
  return detail::k_header_size + sizeof(detail::SyncPreamble);
}

void inspect(const std::string& name, const Input& input, Backend backend) {
  std::error_code ec;
  attempt(
      "list_segments",
      [&] {
        ListOptions list;
        list.backends = {backend};
        list.all = true;
        list.name_prefix = name;
        for (const SegmentInfo& info : list_segments(list, ec)) {
          // What a tool would print: every string and list it reports.
          volatile std::size_t sink = info.name.size() + info.attached.size();
          (void)sink;
        }
      },
      k_slow_call_limit);
  if (input.size() % 4 != 0) return;
  attempt(
      "inspect_segment", [&] { (void)inspect_segment(name, quick_options(backend), ec); },
      k_slow_call_limit);
  attempt(
      "remove_if_stale", [&] { remove_if_stale(name, quick_options(backend), ec); },
      k_slow_call_limit);
}

void remove_all(const std::string& name, Backend backend) {
  attempt(
      "remove_all",
      [&] {
        std::error_code ec;
        ListOptions list;
        list.backends = {backend};
        list.all = true;
        list.name_prefix = name;
        std::vector<std::string> names{name};
        for (const SegmentInfo& info : list_segments(list, ec)) {
          if (!info.name.empty() && info.name != name) names.push_back(info.name);
        }
        SegmentOptions raw = quick_options(backend);
        raw.raw = true;
        for (const std::string& each : names) {
          remove_object(each, quick_options(backend), ec);
          NamedSharedMemory::remove(each, raw, ec);
          // The portable path's wake-up semaphores, up to four for a channel.
          if (backend != Backend::sysv) {
            ChannelOptions options;
            static_cast<ObjectOptions&>(options) = quick_options(backend);
            Channel::remove(each, options, ec);
          }
        }
      },
      k_slow_call_limit);
}

Bounded::Bounded(const char* what, std::chrono::milliseconds limit) noexcept
    : what_(what), started_(Clock::now()), limit_(limit) {
  Watchdog& dog = watchdog();
  if (dog.armed_at.load() != 0) {
    std::fprintf(stderr, "fuzz: '%s' is bounded inside '%s': bound one call at a time\n", what,
                 dog.what.load());
    std::abort();
  }
  dog.what.store(what);
  dog.limit_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(limit).count());
  dog.armed_at.store(now_ns());
}

Bounded::~Bounded() {
  watchdog().armed_at.store(0);
  const auto took = Clock::now() - started_;
  static const bool profile = std::getenv("SHMKIT_FUZZ_PROFILE") != nullptr;
  if (profile) {
    std::fprintf(stderr, "fuzz: %-40s %8lld us\n", what_,
                 static_cast<long long>(
                     std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
  }
  if (took > limit_) {
    std::fprintf(
        stderr, "fuzz: '%s' returned after %lld ms, past its limit of %lld ms\n", what_,
        static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
        static_cast<long long>(limit_.count()));
    std::abort();
  }
}

void unexpected_exception(const char* what, const char* message) noexcept {
  std::fprintf(stderr, "fuzz: '%s' threw something other than std::system_error: %s\n", what,
               message);
  std::abort();
}

}  // namespace shmkit::fuzz
