#include "messaging/topic_snapshot.hpp"

#include "core/process_identity.hpp"
#include "messaging/topic_layout.hpp"
#include "segment/segment_header.hpp"

#include <cstddef>
#include <cstring>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

template <typename T>
T word_at(const std::byte* base, std::size_t offset) {
  T value;
  std::memcpy(&value, base + offset, sizeof value);
  return value;
}

bool occupied(std::uint64_t word) {
  return word > k_topic_slot_released;  // neither free, closed nor released
}

}  // namespace

bool snapshot_topic(const void* state, std::size_t size, TopicSnapshot& snapshot,
                    std::string& problem) {
  const auto* bytes = static_cast<const std::byte*>(state);
  if (size < k_topic_state_offset + sizeof(TopicControl)) {
    problem = "its control segment is too small for a topic";
    return false;
  }
  const std::byte* control = bytes + k_topic_state_offset;
  TopicConfigWords w;
  std::memcpy(&w, control + offsetof(TopicControl, config), sizeof w);
  const bool valid = w.sample_size >= 1 && w.sample_size <= k_max_topic_sample_size &&
                     w.sample_count >= 1 && w.sample_count <= k_max_topic_samples &&
                     w.max_publishers >= 1 && w.max_publishers <= k_max_topic_publishers &&
                     w.max_subscribers >= 1 && w.max_subscribers <= k_max_topic_subscribers &&
                     w.max_queue_depth >= 1 && w.max_queue_depth <= k_max_topic_queue_depth &&
                     w.history <= w.max_queue_depth && w.stride == topic_stride(w.sample_size) &&
                     topic_state_size(w) == size;
  if (!valid) {
    problem = "its config does not describe a topic of " + std::to_string(size) + " bytes";
    return false;
  }
  TopicConfig& c = snapshot.config;
  c.sample_size = static_cast<std::size_t>(w.sample_size);
  c.sample_count = static_cast<std::size_t>(w.sample_count);
  c.max_publishers = static_cast<std::size_t>(w.max_publishers);
  c.max_subscribers = static_cast<std::size_t>(w.max_subscribers);
  c.max_queue_depth = static_cast<std::size_t>(w.max_queue_depth);
  c.history = static_cast<std::size_t>(w.history);
  c.type_id = w.type_id;
  snapshot.sequence = word_at<std::uint64_t>(control, offsetof(TopicControl, sequence));

  snapshot.publishers.clear();
  for (std::size_t j = 0; j < c.max_publishers; ++j) {
    const std::size_t at = offsetof(TopicControl, publishers) + j * sizeof(TopicPublisherSlot);
    const auto identity =
        word_at<std::uint64_t>(control, at + offsetof(TopicPublisherSlot, identity));
    if (!occupied(identity)) continue;
    TopicSlotSnapshot s;
    s.slot = j;
    s.identity = identity;
    s.pid = identity >> 32;
    s.alive = is_alive(identity >> 32, identity, k_slot_start_time_mask);
    s.generation = word_at<std::uint32_t>(control, at + offsetof(TopicPublisherSlot, generation));
    snapshot.publishers.push_back(s);
  }
  snapshot.subscribers.clear();
  for (std::size_t i = 0; i < c.max_subscribers; ++i) {
    const std::size_t at = offsetof(TopicControl, subscribers) + i * sizeof(TopicSubscriberSlot);
    const auto identity =
        word_at<std::uint64_t>(control, at + offsetof(TopicSubscriberSlot, identity));
    if (!occupied(identity)) continue;
    TopicSlotSnapshot s;
    s.slot = i;
    s.identity = identity;
    s.pid = identity >> 32;
    s.alive = is_alive(identity >> 32, identity, k_slot_start_time_mask);
    s.generation = word_at<std::uint32_t>(control, at + offsetof(TopicSubscriberSlot, generation));
    s.queue_depth =
        word_at<std::uint32_t>(control, at + offsetof(TopicSubscriberSlot, queue_depth));
    const auto head = word_at<std::uint64_t>(control, at + offsetof(TopicSubscriberSlot, head));
    const auto tail = word_at<std::uint64_t>(control, at + offsetof(TopicSubscriberSlot, tail));
    s.queued = head >= tail && head - tail <= s.queue_depth ? static_cast<std::size_t>(head - tail)
                                                            : 0;  // garbage: reported as empty
    s.dropped = word_at<std::uint64_t>(control, at + offsetof(TopicSubscriberSlot, dropped));
    s.overflow = word_at<std::uint32_t>(control, at + offsetof(TopicSubscriberSlot, policy)) == 1
                     ? OverflowPolicy::block_publisher
                     : OverflowPolicy::drop_oldest;
    snapshot.subscribers.push_back(s);
  }
  const std::size_t holders = static_cast<std::size_t>(topic_offsets(w).holders);
  std::uint64_t publisher_bits = 0;
  for (std::size_t j = 0; j < k_max_topic_publishers; ++j) publisher_bits |= publisher_bit(j);
  snapshot.free_samples = snapshot.samples_on_loan = snapshot.samples_in_use = 0;
  for (std::size_t k = 0; k < c.sample_count; ++k) {
    const auto word = word_at<std::uint64_t>(control, holders + k * 8);
    if (word == 0) {
      ++snapshot.free_samples;
    } else {
      ++snapshot.samples_in_use;
      if ((word & publisher_bits) != 0) ++snapshot.samples_on_loan;
    }
  }
  return true;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
