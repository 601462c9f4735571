// What a Topic is made of (TopicConfig, fixed at creation) and how each of
// its handles opens and waits (TopicOptions, PublisherOptions,
// SubscriberOptions). See topic.hpp.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/options.hpp>
#include <shmkit/wait_options.hpp>

#include <cstddef>
#include <cstdint>

SHMKIT_BEGIN_NAMESPACE

// What a subscriber's full queue does to the next sample published.
enum class OverflowPolicy : std::uint8_t {
  // The oldest queued sample is dropped (and counted in dropped()): a slow
  // subscriber never slows a publisher or the other subscribers.
  drop_oldest,
  // The publisher waits until this subscriber has room (a dead subscriber
  // never blocks it: its slot is reclaimed).
  block_publisher,
};

// Limits of TopicConfig's fields (each field says which).
inline constexpr std::size_t k_max_topic_sample_size = std::size_t{1} << 30;  // 1 GiB
inline constexpr std::size_t k_max_topic_samples = 65536;
inline constexpr std::size_t k_max_topic_publishers = 8;
inline constexpr std::size_t k_max_topic_subscribers = 32;
inline constexpr std::size_t k_max_topic_queue_depth = 1024;

// The shape of a topic, fixed when it is created and checked by every opener
// (open_or_create with another config is errc::size_mismatch).
struct TopicConfig {
  std::size_t sample_size = 0;       // max payload bytes per sample: 1..k_max_topic_sample_size
  std::size_t sample_count = 0;      // samples in the pool: 1..k_max_topic_samples
  std::size_t max_publishers = 4;    // 1..k_max_topic_publishers
  std::size_t max_subscribers = 8;   // 1..k_max_topic_subscribers
  std::size_t max_queue_depth = 16;  // capacity of each subscriber's queue: 1..1024
  std::size_t history = 0;           // last samples kept for late subscribers: 0..max_queue_depth
  // 0 = untyped bytes; TypedPublisher<T>/TypedSubscriber<T> store
  // topic_type_id<T>(schema_id) here and refuse any other (errc::type_mismatch).
  std::uint64_t type_id = 0;
};

inline bool operator==(const TopicConfig& a, const TopicConfig& b) noexcept {
  return a.sample_size == b.sample_size && a.sample_count == b.sample_count &&
         a.max_publishers == b.max_publishers && a.max_subscribers == b.max_subscribers &&
         a.max_queue_depth == b.max_queue_depth && a.history == b.history && a.type_id == b.type_id;
}
inline bool operator!=(const TopicConfig& a, const TopicConfig& b) noexcept {
  return !(a == b);
}

// Topic, and the base of PublisherOptions and SubscriberOptions.
struct TopicOptions : ObjectOptions {
  // How this handle waits (for a free sample, for room, for data).
  WaitOptions wait;
  // Typed wrappers only: your version number of T's meaning, hashed into the
  // topic's type_id with sizeof(T) and alignof(T) (as QueueOptions::schema_id).
  std::uint64_t schema_id = 0;
};

struct PublisherOptions : TopicOptions {};

struct SubscriberOptions : TopicOptions {
  // This subscriber's queue: 0 = the topic's max_queue_depth, else
  // 1..max_queue_depth (errc::invalid_size otherwise).
  std::size_t queue_depth = 0;
  OverflowPolicy overflow = OverflowPolicy::drop_oldest;
  // Ask for up to this many of the last published samples on attach (at most
  // the topic's history; more is errc::invalid_size only when it exceeds
  // the queue depth).
  std::size_t history = 0;
};

// The type_id typed wrappers store for T: a hash of sizeof(T), alignof(T) and
// `schema_id`, never 0.
constexpr std::uint64_t topic_type_id(std::size_t size, std::size_t align,
                                      std::uint64_t schema_id) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a over the three words
  const std::uint64_t words[3] = {static_cast<std::uint64_t>(size),
                                  static_cast<std::uint64_t>(align), schema_id};
  for (std::uint64_t word : words) {
    for (int byte = 0; byte < 8; ++byte) {
      hash ^= (word >> (8 * byte)) & 0xffu;
      hash *= 0x100000001b3ull;
    }
  }
  return hash == 0 ? 1 : hash;
}

namespace detail {
// What a typed handle requires of the topic it opens: this type_id and room
// for the type (errc::type_mismatch otherwise).
struct TopicType {
  std::uint64_t type_id;
  std::size_t size;
};
}  // namespace detail

SHMKIT_END_NAMESPACE
