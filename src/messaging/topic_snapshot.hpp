// What a topic's control segment says, read from the outside (shmkit info,
// tools): its config, each slot and how full the pool is. Reads words with
// plain copies (no atomics, nothing written), so it works on a read-only
// mapping or a copy of one; every word is validated like an opener does.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/topic_options.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

struct TopicSlotSnapshot {
  std::size_t slot = 0;
  std::uint64_t identity = 0;  // pack_slot() of the holder (pid << 32 | start time bits)
  std::uint64_t pid = 0;
  bool alive = false;  // the holder's process runs (judged when the snapshot was taken)
  std::uint32_t generation = 0;
  // Subscribers only.
  std::size_t queue_depth = 0;
  std::size_t queued = 0;
  std::uint64_t dropped = 0;
  OverflowPolicy overflow = OverflowPolicy::drop_oldest;
};

struct TopicSnapshot {
  TopicConfig config;
  std::uint64_t sequence = 0;  // samples published so far (the last sequence number)
  std::size_t free_samples = 0;
  std::size_t samples_on_loan = 0;  // held by a publisher
  std::size_t samples_in_use = 0;   // not free
  // Occupied slots only (closed and free ones are left out).
  std::vector<TopicSlotSnapshot> publishers;
  std::vector<TopicSlotSnapshot> subscribers;
};

// `state` is the control segment's data just past its sync preamble (the
// SyncSegment's state), `size` its bytes. False, with `problem` saying
// why, when the words do not describe a topic.
bool snapshot_topic(const void* state, std::size_t size, TopicSnapshot& snapshot,
                    std::string& problem);

}  // namespace detail
SHMKIT_END_NAMESPACE
