// A topic's two segments, opened or created together and validated: the
// control segment (kind topic, a sync segment with the topic's waiters) and
// the pool (kind topic_pool), read-write in publishers and read-only in
// everyone else. See topic_layout.hpp for what is in them.
#pragma once

#include <shmkit/config.hpp>

#include "core/failure.hpp"
#include "messaging/peer_wait.hpp"
#include "messaging/topic_layout.hpp"
#include "segment/segment_access.hpp"
#include "sync/sync_segment.hpp"

#include <shmkit/named_shared_memory.hpp>
#include <shmkit/topic_options.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

struct TopicSegment {
  SyncSegment sync;  // the control segment (its own waiter list stays empty)
  // Indexed by waiter slot (topic_layout.hpp); null for subscriber slots at
  // or past max_subscribers.
  std::vector<std::unique_ptr<WordWaiter>> waiters;
  NamedSharedMemory pool;
  std::string name;
  std::string what;  // "topic 'name'", for messages
  // Validated copies: never re-read from shared memory.
  TopicConfig config;
  std::size_t stride = 0;
  TopicControl* control = nullptr;
  TopicQueueEntry* queues = nullptr;
  std::atomic<std::uint32_t>* history = nullptr;
  std::atomic<std::uint64_t>* holders = nullptr;
  std::byte* pool_data = nullptr;  // sample 0's header; read-only unless writable
  bool writable_pool = false;

  std::byte* sample_header(std::size_t index) const noexcept { return pool_data + index * stride; }
  TopicQueueEntry* queue_of(std::size_t slot) const noexcept {
    return queues + slot * config.max_queue_depth;
  }
  SleepWords space_words() const noexcept {
    return SleepWords{control->space_sleepers, control->space_signal,
                      *waiters[k_topic_space_waiter]};
  }
  SleepWords data_words(std::size_t slot) const noexcept {
    return SleepWords{control->subscribers[slot].sleepers, control->subscribers[slot].signal,
                      *waiters[k_topic_first_data_waiter + slot]};
  }
  // The corrupted failure with the topic's name and what to do.
  void corrupted(Failure& failure, const std::string& detail) const;
};

// Checks every field of `config` against its limit (errc::invalid_size with
// the rule). `what` names the topic.
bool validate_topic_config(const TopicConfig& config, const std::string& what, Failure& failure);

// `config` null: open an existing topic; otherwise open_or_create (or create
// when `mode` says so) it with `config`, and errc::size_mismatch when it
// exists with another one.
std::shared_ptr<TopicSegment> open_topic_segment(std::string_view name, const TopicConfig* config,
                                                 OpenMode mode, const ObjectOptions& options,
                                                 bool writable_pool, Failure& failure);

bool remove_topic_segments(const std::string& name, const SegmentOptions& options,
                           Failure& failure);

// Topic names obey the ring's rule: room for the "<name>.N" wake-ups and
// "<name>.p".
bool check_topic_name(std::string_view name, Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
