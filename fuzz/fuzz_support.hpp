// What every fuzz target shares: unique names, writing the fuzz input into a
// live object's segment, and the watchdog that turns a wait past its deadline
// into a crash that libFuzzer records.
//
// The threat model (docs/architecture.md): everything in shared memory is
// untrusted. A target creates an object for real, lets the input overwrite
// its header and state through a raw mapping of the same name, then opens,
// inspects, lists and uses it with 1 ms deadlines. A crash, a sanitizer
// report, an exception other than std::system_error, or a call with a 1 ms
// deadline that takes more than a second is a finding.
#pragma once

#include <shmkit/shmkit.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

namespace shmkit::fuzz {

// How long a call with a 1 ms deadline may take before it counts as a hang.
// Generous: CI runs eight sanitized fuzzers on two loaded cores.
inline constexpr auto k_call_limit = std::chrono::seconds(1);
// Calls without a deadline of their own (listing /dev/shm, removing).
inline constexpr auto k_slow_call_limit = std::chrono::seconds(10);
inline constexpr auto k_short = std::chrono::milliseconds(1);

// The fuzz input: one mode byte for the target's own choices, then patches.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}
  // The first byte (0 if empty): which backend, role, size... the target picks.
  std::uint8_t mode() const noexcept { return size_ > 0 ? data_[0] : 0; }
  // Bit `bit` of the mode byte.
  bool flag(int bit) const noexcept { return (mode() >> bit) & 1; }
  std::size_t size() const noexcept { return size_; }
  // Applies every patch after the mode byte. A patch is [offset: 2 bytes,
  // big-endian][length: 1 byte][bytes]. Offsets with the top bit clear count
  // from the start of the mapping (the shmkit header), with it set from
  // `state`, the object's own bytes after the header; both wrap around the
  // region, so every input lands somewhere.
  void apply(std::byte* mapping, std::size_t mapping_size, std::size_t state_offset) const noexcept;

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

// A name no other process or iteration uses: "fz", the target's tag, the pid
// and a counter. At most 20 characters, so it suits every kind (servers take
// 21).
std::string next_name(const char* tag);

// Opens `name` raw (no header, read-write: the whole OS object) and applies
// the input to it. `state_offset` is where the object's own state starts
// (after the shmkit header and, for sync objects, their preamble).
void scribble(const std::string& name, const Input& input, std::size_t state_offset,
              Backend backend = Backend::native);

// The bytes before a sync object's state: the header and its preamble.
std::size_t sync_state_offset() noexcept;

// list_segments(), inspect_segment() and remove_if_stale() of `name`, as the
// CLI would. The last two read every process's /proc/PID/maps (5 to 10 ms on
// a busy machine), so they run for one input in four, chosen by the input's
// length so that a crash reproduces.
void inspect(const std::string& name, const Input& input, Backend backend = Backend::native);

// Removes `name` (and every object "<name>.*" a server left) whatever state
// it is in, so that no iteration leaves anything behind.
void remove_all(const std::string& name, Backend backend = Backend::native);

// SegmentOptions for every open: 1 ms for a half-made object instead of a second.
SegmentOptions quick_options(Backend backend = Backend::native);

// Arms the watchdog for the life of this object: a call that does not return
// within `limit` aborts the process with `what` in the message (libFuzzer
// then saves the input), and so does one that returns too late.
class Bounded {
 public:
  explicit Bounded(const char* what, std::chrono::milliseconds limit = k_call_limit) noexcept;
  Bounded(const Bounded&) = delete;
  Bounded& operator=(const Bounded&) = delete;
  ~Bounded();

 private:
  const char* what_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::milliseconds limit_;
};

[[noreturn]] void unexpected_exception(const char* what, const char* message) noexcept;

// Runs `call` under the watchdog. std::system_error is the library's way of
// saying no and is swallowed; any other exception is a finding (bad input
// must be a clear error, not a bad_alloc or a length_error) and aborts.
template <typename Call>
void attempt(const char* what, Call&& call,
             std::chrono::milliseconds limit = k_call_limit) noexcept {
  Bounded bounded(what, limit);
  try {
    call();
  } catch (const std::system_error&) {
  } catch (const std::exception& e) {
    unexpected_exception(what, e.what());
  } catch (...) {
    unexpected_exception(what, "not a std::exception");
  }
}

}  // namespace shmkit::fuzz
