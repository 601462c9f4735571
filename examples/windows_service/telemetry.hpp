// What the service shares with user-session consumers.
#pragma once

#include <shmkit/shmkit.hpp>

#include <atomic>
#include <cstdint>

namespace telemetry {

// Scope::global so that processes in every session see it; creating there
// needs SeCreateGlobalPrivilege, which services have.
inline shmkit::SegmentOptions service_options() {
  shmkit::SegmentOptions options;
  options.scope = shmkit::Scope::global;
  // Owner (the service account) and SYSTEM: full access; Authenticated Users:
  // read the mapping and wait on (SYNCHRONIZE) the event, and read both
  // objects' owner (RC), which shmkit checks before trusting them. No write.
  // (On POSIX these fields are ignored and `permissions` applies: 0644.)
  options.security_descriptor = "D:P(A;;GA;;;SY)(A;;GA;;;OW)(A;;GRRC;;;AU)(A;;0x120000;;;AU)";
  options.permissions = 0644;
  return options;
}

inline shmkit::SegmentOptions consumer_options() {
  shmkit::SegmentOptions options;
  options.scope = shmkit::Scope::global;
  options.access = shmkit::Access::read_only;
  return options;
}

inline constexpr const char* k_segment = "telemetry";
inline constexpr const char* k_event = "telemetry.tick";

struct Sample {
  std::atomic<std::uint64_t> sequence;  // odd while the producer writes (a seqlock)
  std::uint64_t uptime_ms;
  double temperature;
};

}  // namespace telemetry
