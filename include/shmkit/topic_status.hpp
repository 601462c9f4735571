// A read-only look inside a Topic: its config, who publishes and subscribes
// (alive or dead), each subscriber's queue and what the pool holds. What
// `shmkit info` shows for a topic; for monitoring and diagnosis, never needed
// to use a topic.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>
#include <shmkit/topic_options.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

SHMKIT_BEGIN_NAMESPACE

// A publisher slot that a process holds (alive) or held until it died
// without closing (dead: the next attach or reclamation pass frees it).
struct TopicPublisherStatus {
  std::size_t slot = 0;
  std::uint64_t pid = 0;
  bool alive = false;
  std::uint32_t generation = 0;  // the slot's attach generation (Publisher::generation())
  std::size_t loans = 0;         // samples it has on loan now
};

// A subscriber slot held by a live or dead process.
struct TopicSubscriberStatus {
  std::size_t slot = 0;
  std::uint64_t pid = 0;
  bool alive = false;
  std::uint32_t generation = 0;
  std::size_t queued = 0;       // samples published to it and not yet received
  std::size_t queue_depth = 0;  // its queue's capacity
  OverflowPolicy overflow = OverflowPolicy::drop_oldest;
  std::uint64_t dropped = 0;  // samples it lost to drop_oldest
  std::size_t held = 0;       // samples it holds a reference to (queued or received)
};

// A snapshot of a topic's shared state, copied and validated. Publishers and
// subscribers keep working while it is taken, so the numbers may disagree by
// a sample or two (a sample counted in `queued` may be received before
// `held` is read); each number on its own was true at some instant.
struct TopicStatus {
  std::string name;
  TopicConfig config;            // as the creator wrote it (validated)
  std::uint64_t published = 0;   // the last sequence number given (samples published so far)
  std::uint64_t pool_bytes = 0;  // the pool segment's data: sample_count samples of `stride` bytes
  std::uint64_t stride = 0;      // pool bytes per sample, its 64-byte header included
  std::size_t free_samples = 0;  // nobody holds them (or a publisher's spare, free to any loan)
  std::size_t samples_in_use = 0;  // sample_count - free_samples
  std::size_t on_loan = 0;         // held by a publisher (loaned, not yet published)
  std::size_t in_history = 0;      // kept for late subscribers
  // The topic lock: held (by a process that may have died, which the next
  // locker takes it over from) or not.
  bool lock_held = false;
  std::uint64_t lock_pid = 0;
  bool lock_holder_alive = false;
  // Slots held by a process, alive or dead, by slot number; free slots and
  // slots closed cleanly are left out.
  std::vector<TopicPublisherStatus> publishers;
  std::vector<TopicSubscriberStatus> subscribers;
};

// Reads topic `name` without taking any role or writing a byte: the control
// segment and the pool are mapped read-only (this process does not appear in
// their attach tables), every word is copied and checked with the rules a
// publisher or subscriber applies, and liveness comes from the OS.
//
// Errors: errc::invalid_name; errc::not_found (no topic, or its pool is
// missing); errc::wrong_kind (the name is another kind's);
// errc::incompatible_layout (another shmkit version made it);
// errc::corrupted when what it reads does not describe a valid topic (the
// message names the field); errc::untrusted_owner; permission and other OS
// errors. The options say whose topic may be read (trusted_owners),
// open_timeout for one still being created and, on Windows, the scope.
//
// Threads: any number of threads may call it at once. Fork: no state.
[[nodiscard]] SHMKIT_EXPORT TopicStatus inspect_topic(std::string_view name,
                                                      const ObjectOptions& options = {});
[[nodiscard]] SHMKIT_EXPORT TopicStatus inspect_topic(std::string_view name,
                                                      const ObjectOptions& options,
                                                      std::error_code& ec) noexcept;

// "drop_oldest" or "block_publisher".
constexpr const char* to_string(OverflowPolicy policy) noexcept {
  return policy == OverflowPolicy::block_publisher ? "block_publisher" : "drop_oldest";
}

SHMKIT_END_NAMESPACE
