#include "messaging/topic_segment.hpp"

#include "core/name_check.hpp"
#include "messaging/ring_segment.hpp"
#include "segment/segment_options.hpp"

#include <shmkit/name.hpp>

#include <cstring>
#include <limits>
#include <new>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

std::string pool_name_of(const std::string& name) {
  return name + k_topic_pool_suffix;
}

TopicConfigWords words_of(const TopicConfig& c) noexcept {
  TopicConfigWords w{};
  w.sample_size = c.sample_size;
  w.sample_count = c.sample_count;
  w.max_publishers = c.max_publishers;
  w.max_subscribers = c.max_subscribers;
  w.max_queue_depth = c.max_queue_depth;
  w.history = c.history;
  w.type_id = c.type_id;
  w.stride = topic_stride(c.sample_size);
  return w;
}

TopicConfig config_of(const TopicConfigWords& w) noexcept {
  TopicConfig c;
  c.sample_size = static_cast<std::size_t>(w.sample_size);
  c.sample_count = static_cast<std::size_t>(w.sample_count);
  c.max_publishers = static_cast<std::size_t>(w.max_publishers);
  c.max_subscribers = static_cast<std::size_t>(w.max_subscribers);
  c.max_queue_depth = static_cast<std::size_t>(w.max_queue_depth);
  c.history = static_cast<std::size_t>(w.history);
  c.type_id = w.type_id;
  return c;
}

bool in_range(std::uint64_t value, std::uint64_t low, std::uint64_t high) noexcept {
  return value >= low && value <= high;
}

// Whether the words (as read from shared memory, or made from a user's
// config) describe a topic this build can map: every field in range and the
// pool's size representable.
bool words_valid(const TopicConfigWords& w) noexcept {
  if (!in_range(w.sample_size, 1, k_max_topic_sample_size) ||
      !in_range(w.sample_count, 1, k_max_topic_samples) ||
      !in_range(w.max_publishers, 1, k_max_topic_publishers) ||
      !in_range(w.max_subscribers, 1, k_max_topic_subscribers) ||
      !in_range(w.max_queue_depth, 1, k_max_topic_queue_depth) ||
      !in_range(w.history, 0, w.max_queue_depth) || w.stride != topic_stride(w.sample_size)) {
    return false;
  }
  const std::uint64_t largest = std::numeric_limits<std::size_t>::max() / 2;
  return topic_pool_size(w) <= largest && topic_state_size(w) <= largest;
}

struct TopicInit {
  TopicConfigWords words;
  const std::string* name;
  const SegmentOptions* options;
  std::vector<std::unique_ptr<WordWaiter>>* waiters;
  NamedSharedMemory* pool;
};

void make_topic_waiters(const std::string& name, std::size_t max_subscribers, bool create,
                        const SegmentOptions& options,
                        std::vector<std::unique_ptr<WordWaiter>>& waiters, Failure& failure) {
  waiters.clear();
  waiters.resize(k_topic_waiter_slots);
  for (unsigned slot = 0; slot < k_topic_waiter_slots && !failure; ++slot) {
    const bool used = slot == k_topic_space_waiter || slot == k_topic_lock_waiter ||
                      slot - k_topic_first_data_waiter < max_subscribers;
    if (used) waiters[slot] = make_word_waiter(name, slot, create, options, failure);
  }
}

void initialize_pool(void* data, std::size_t, const void* context, Failure&) {
  const auto& w = *static_cast<const TopicConfigWords*>(context);
  TopicPoolPreamble preamble{};
  preamble.magic = k_topic_pool_magic;
  preamble.sample_size = w.sample_size;
  preamble.sample_count = w.sample_count;
  preamble.stride = w.stride;
  std::memcpy(data, &preamble, sizeof preamble);
}

void initialize_topic(void* state, const void* context, Failure& failure) {
  const auto& init = *static_cast<const TopicInit*>(context);
  auto* control = new (static_cast<std::byte*>(state) + k_topic_state_offset) TopicControl{};
  control->config = init.words;
  make_topic_waiters(*init.name, static_cast<std::size_t>(init.words.max_subscribers), true,
                     *init.options, *init.waiters, failure);
  if (failure) return;
  // The pool exists before the control segment is published: whoever opens
  // the topic finds both. A pool left under the name by a creator that died
  // before publishing its control segment belongs to nobody: replace it.
  const std::string pool_name = pool_name_of(*init.name);
  const SegmentRequest request{ObjectKind::topic_pool, &initialize_pool, &init.words};
  const auto size = static_cast<std::size_t>(topic_pool_size(init.words));
  for (int attempt = 0; attempt < 2; ++attempt) {
    failure.clear();
    *init.pool = open_segment(pool_name, size, *init.options, OpenMode::create, request, failure);
    if (!failure || failure.code != make_error_code(errc::already_exists) || attempt > 0) break;
    Failure removal;
    remove_segment(pool_name, *init.options, removal);
    if (removal) {
      failure = removal;
      break;
    }
  }
  if (failure) {
    failure.message = "topic " + quoted(*init.name) + ": cannot create its sample pool " +
                      quoted(pool_name) + " (" + failure.sentence() + ")";
  }
}

}  // namespace

void TopicSegment::corrupted(Failure& failure, const std::string& detail) const {
  failure.set(errc::corrupted, what + ": " + detail +
                                   "; its control segment was overwritten: remove the topic and "
                                   "create it again");
}

bool check_topic_name(std::string_view name, Failure& failure) {
  static_assert(k_max_name_length + 3 <= detail::k_max_os_name_length,
                "room for '<name>.p' and '<name>.33'");
  return check_name(name, failure);
}

bool validate_topic_config(const TopicConfig& config, const std::string& what, Failure& failure) {
  const auto bad = [&](const char* field, std::size_t value, const std::string& rule) {
    failure.set(errc::invalid_size, what + ": TopicConfig::" + field + " = " +
                                        std::to_string(value) + " is out of range; it must be " +
                                        rule);
    return false;
  };
  if (config.sample_size < 1 || config.sample_size > k_max_topic_sample_size)
    return bad("sample_size", config.sample_size, "1..1 GiB");
  if (config.sample_count < 1 || config.sample_count > k_max_topic_samples)
    return bad("sample_count", config.sample_count, "1..65536");
  if (config.max_publishers < 1 || config.max_publishers > k_max_topic_publishers)
    return bad("max_publishers", config.max_publishers, "1..8");
  if (config.max_subscribers < 1 || config.max_subscribers > k_max_topic_subscribers)
    return bad("max_subscribers", config.max_subscribers, "1..32");
  if (config.max_queue_depth < 1 || config.max_queue_depth > k_max_topic_queue_depth)
    return bad("max_queue_depth", config.max_queue_depth, "1..1024");
  if (config.history > config.max_queue_depth)
    return bad("history", config.history, "0..max_queue_depth");
  if (!words_valid(words_of(config))) {
    failure.set(errc::invalid_size, what + ": a pool of " + std::to_string(config.sample_count) +
                                        " samples of " + std::to_string(config.sample_size) +
                                        " bytes is more than this system can map");
    return false;
  }
  return true;
}

std::shared_ptr<TopicSegment> open_topic_segment(std::string_view name_view,
                                                 const TopicConfig* config, OpenMode mode,
                                                 const ObjectOptions& object_options,
                                                 bool writable_pool, Failure& failure) {
  if (!check_topic_name(name_view, failure)) return nullptr;
  auto result = std::make_shared<TopicSegment>();
  TopicSegment& t = *result;
  t.name = std::string(name_view);
  t.what = "topic " + quoted(t.name);
  t.writable_pool = writable_pool;
  const SegmentOptions options = segment_options_for(object_options);

  NamedSharedMemory created_pool;
  TopicInit init{};
  init.name = &t.name;
  init.options = &options;
  init.waiters = &t.waiters;
  init.pool = &created_pool;
  std::size_t state_size = 0;
  if (config != nullptr) {
    if (!validate_topic_config(*config, t.what, failure)) return nullptr;
    init.words = words_of(*config);
    state_size = static_cast<std::size_t>(topic_state_size(init.words));
  } else {
    mode = OpenMode::open;
  }
  const SyncRequest request{ObjectKind::topic, k_topic_layout, state_size, 0, false,
                            &initialize_topic, &init};
  t.sync = open_sync_segment(t.name, options, mode, request, failure);
  if (failure) {
    if (failure.code == make_error_code(errc::size_mismatch)) {
      failure.set(errc::size_mismatch, t.what +
                                           " exists with another config than the one "
                                           "requested; open it without one, or remove it first");
    }
    return nullptr;
  }
  const bool created = t.sync.memory.created();

  // Whoever created it: read the config back and check every word.
  if (t.sync.state_size < k_topic_state_offset + sizeof(TopicControl)) {
    t.corrupted(failure, "its control segment has " + std::to_string(t.sync.state_size) +
                             " bytes, too few for a topic");
    return nullptr;
  }
  t.control =
      reinterpret_cast<TopicControl*>(static_cast<std::byte*>(t.sync.state) + k_topic_state_offset);
  TopicConfigWords words;
  std::memcpy(&words, &t.control->config, sizeof words);
  if (!words_valid(words) || topic_state_size(words) != t.sync.state_size) {
    t.corrupted(failure, "its config (" + std::to_string(words.sample_count) + " samples of " +
                             std::to_string(words.sample_size) + " bytes, " +
                             std::to_string(words.max_subscribers) + " subscribers, queues of " +
                             std::to_string(words.max_queue_depth) +
                             ") does not match its size of " + std::to_string(t.sync.state_size) +
                             " bytes");
    return nullptr;
  }
  t.config = config_of(words);
  if (config != nullptr && !created && t.config != *config) {
    failure.set(errc::size_mismatch,
                t.what + " exists with another config (" + std::to_string(t.config.sample_count) +
                    " samples of " + std::to_string(t.config.sample_size) +
                    " bytes, ...) than the one requested; open it without one, or remove it "
                    "first");
    return nullptr;
  }
  t.stride = static_cast<std::size_t>(words.stride);
  const TopicOffsets offsets = topic_offsets(words);
  auto* base = reinterpret_cast<std::byte*>(t.control);
  t.queues = reinterpret_cast<TopicQueueEntry*>(base + offsets.queues);
  t.history = reinterpret_cast<std::atomic<std::uint32_t>*>(base + offsets.history);
  t.holders = reinterpret_cast<std::atomic<std::uint64_t>*>(base + offsets.holders);
  if (!created) {
    make_topic_waiters(t.name, t.config.max_subscribers, false, options, t.waiters, failure);
    if (failure) return nullptr;
  }

  // The pool: read-write only where samples are written.
  SegmentOptions pool_options = options;
  pool_options.access = writable_pool ? Access::read_write : Access::read_only;
  const SegmentRequest pool_request{ObjectKind::topic_pool, nullptr, nullptr};
  t.pool =
      open_segment(pool_name_of(t.name), 0, pool_options, OpenMode::open, pool_request, failure);
  if (failure) {
    failure.message = t.what + ": cannot open its sample pool (" + failure.sentence() + ")";
    return nullptr;
  }
  created_pool.close();
  TopicPoolPreamble preamble;
  if (t.pool.size() != topic_pool_size(words)) {
    failure.set(errc::corrupted, t.what + ": its sample pool has " + std::to_string(t.pool.size()) +
                                     " bytes, its config says " +
                                     std::to_string(topic_pool_size(words)) +
                                     "; remove the topic and create it again");
    return nullptr;
  }
  std::memcpy(&preamble, t.pool.data(), sizeof preamble);
  if (preamble.magic != k_topic_pool_magic || preamble.sample_size != words.sample_size ||
      preamble.sample_count != words.sample_count || preamble.stride != words.stride) {
    failure.set(errc::corrupted, t.what +
                                     ": its sample pool describes another pool than its control "
                                     "segment; remove the topic and create it again");
    return nullptr;
  }
  t.pool_data = static_cast<std::byte*>(t.pool.data()) + k_topic_pool_data_offset;
  return result;
}

bool remove_topic_segments(const std::string& name, const SegmentOptions& options,
                           Failure& failure) {
  // The pool first: once the control segment is gone, an open_or_create may
  // create a new topic (control and pool) under the name, whose pool must
  // not be the one removed here. The other way round, an opener that finds
  // the old control segment without its pool fails (it cannot open the
  // pool) instead of losing a live topic's pool; and a creator that finds a
  // pool left under the name replaces it (initialize_topic).
  const bool pool_removed = remove_segment(pool_name_of(name), options, failure);
  if (failure) return false;
  const bool removed = remove_sync_segment(name, options, k_topic_waiter_slots, failure);
  if (failure) return false;
  return removed || pool_removed;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
