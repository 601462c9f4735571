// inspect_topic(): a topic's shared state, read through read-only mappings,
// copied word by word and validated with the layout's rules
// (topic_layout.hpp) before any of it is used. Nothing here writes to shared
// memory or takes a lock, so a topic that is garbage, half-made or in use
// by any number of processes is read safely.
#include <shmkit/topic_status.hpp>

#include "core/error_wrappers.hpp"
#include "core/failure.hpp"
#include "core/name_check.hpp"
#include "core/process_identity.hpp"
#include "messaging/topic_layout.hpp"
#include "messaging/topic_segment.hpp"
#include "segment/segment_access.hpp"
#include "segment/segment_header.hpp"
#include "segment/segment_options.hpp"
#include "sync/sync_segment.hpp"

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// A consistent snapshot may need another try while publishers and
// subscribers work (a slot being claimed, a queue moving); garbage stays
// garbage, so only what fails every try is reported as corrupted.
constexpr int k_snapshot_attempts = 4;

std::uint64_t load(const std::atomic<std::uint64_t>& word) noexcept {
  return word.load(std::memory_order_acquire);
}
std::uint32_t load(const std::atomic<std::uint32_t>& word) noexcept {
  return word.load(std::memory_order_acquire);
}

struct Identity {
  bool held = false;  // not free, not closed
  std::uint64_t pid = 0;
  bool alive = false;
};

// A slot or lock word: 0 free, k_topic_slot_closed closed, else pack_slot()
// of its holder. Any other value (garbage, pid 0) names no running process:
// publishers and subscribers treat it as a dead holder and reclaim it, and
// so it is shown.
Identity read_identity(std::uint64_t word) {
  Identity out;
  if (word == 0 || word == k_topic_slot_closed) return out;
  out.held = true;
  out.pid = word >> 32;
  out.alive =
      out.pid != 0 && is_alive(out.pid, word & k_slot_start_time_mask, k_slot_start_time_mask);
  return out;
}

// The config words, each within the limits of topic_options.hpp, and the
// stride they imply. Returns "" or what is wrong.
std::string check_config(const TopicConfigWords& c) {
  if (c.sample_size == 0 || c.sample_size > k_max_topic_sample_size) return "sample_size";
  if (c.sample_count == 0 || c.sample_count > k_max_topic_samples) return "sample_count";
  if (c.max_publishers == 0 || c.max_publishers > k_max_topic_publishers) return "max_publishers";
  if (c.max_subscribers == 0 || c.max_subscribers > k_max_topic_subscribers) {
    return "max_subscribers";
  }
  if (c.max_queue_depth == 0 || c.max_queue_depth > k_max_topic_queue_depth) {
    return "max_queue_depth";
  }
  if (c.history > c.max_queue_depth) return "history";
  if (c.stride != topic_stride(c.sample_size)) return "stride";
  return {};
}

class TopicReader {
 public:
  TopicReader(std::string name, const ObjectOptions& options)
      : name_(std::move(name)), what_("topic " + quoted(name_)) {
    options_ = segment_options_for(options);
    options_.access = Access::read_only;
    options_.populate = false;
  }

  TopicStatus run(Failure& failure) {
    TopicStatus status;
    if (!check_topic_name(name_, failure)) return status;
    const SegmentRequest control_request{ObjectKind::topic, nullptr, nullptr};
    control_ = SegmentAccess::open(name_, 0, options_, OpenMode::open, control_request, failure);
    if (failure) return status;
    if (!read_config(status, failure)) return status;
    if (!read_pool(status, failure)) return status;
    for (int attempt = 1;; ++attempt) {
      failure.clear();
      TopicStatus snapshot = status;
      if (read_state(snapshot, failure)) return snapshot;
      if (attempt == k_snapshot_attempts) return status;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

 private:
  bool corrupt(Failure& failure, const std::string& detail) {
    failure.set(errc::corrupted,
                what_ + " is corrupted: " + detail +
                    "; it cannot be used safely: remove it (shmkit rm) and create it again");
    return false;
  }

  // The sync preamble, the config copy and the segment's size.
  bool read_config(TopicStatus& status, Failure& failure) {
    const std::size_t size = control_.size();
    const std::size_t header = sizeof(SyncPreamble) + k_topic_state_offset;
    if (size < header + sizeof(TopicControl)) {
      return corrupt(failure, "its control segment has " + std::to_string(size) +
                                  " bytes, too few for a topic's state");
    }
    SyncPreamble preamble;
    std::memcpy(&preamble, control_.data(), sizeof preamble);
    if (preamble.layout != k_topic_layout) {
      failure.set(errc::incompatible_layout,
                  what_ + " was made by another version of shmkit (layout " +
                      std::to_string(preamble.layout) + "); inspect it with that version");
      return false;
    }
    base_ = static_cast<const unsigned char*>(control_.data()) + header;
    // Written once by the creator before the segment was published; still
    // read as plain bytes into a local, then judged.
    std::memcpy(&config_, base_, sizeof config_);
    const std::string bad = check_config(config_);
    if (!bad.empty()) return corrupt(failure, "its config field " + bad + " is out of range");
    offsets_ = topic_offsets(config_);
    if (topic_state_size(config_) + sizeof(SyncPreamble) != size) {
      return corrupt(failure, "its control segment has " + std::to_string(size) +
                                  " bytes where its config needs " +
                                  std::to_string(topic_state_size(config_) + sizeof(SyncPreamble)));
    }
    status.name = name_;
    status.config.sample_size = static_cast<std::size_t>(config_.sample_size);
    status.config.sample_count = static_cast<std::size_t>(config_.sample_count);
    status.config.max_publishers = static_cast<std::size_t>(config_.max_publishers);
    status.config.max_subscribers = static_cast<std::size_t>(config_.max_subscribers);
    status.config.max_queue_depth = static_cast<std::size_t>(config_.max_queue_depth);
    status.config.history = static_cast<std::size_t>(config_.history);
    status.config.type_id = config_.type_id;
    status.stride = config_.stride;
    return true;
  }

  // The pool segment "<name>.p": its kind, size and preamble.
  bool read_pool(TopicStatus& status, Failure& failure) {
    const std::string pool_name = name_ + k_topic_pool_suffix;
    const SegmentRequest pool_request{ObjectKind::topic_pool, nullptr, nullptr};
    NamedSharedMemory pool =
        SegmentAccess::open(pool_name, 0, options_, OpenMode::open, pool_request, failure);
    if (failure) {
      if (failure.code == make_error_code(errc::not_found)) {
        failure.set(errc::not_found, what_ + " has no sample pool (" + quoted(pool_name) +
                                         "): its creator died while making it, or it is being "
                                         "removed; remove the topic and create it again");
      }
      return false;
    }
    const std::uint64_t expected = topic_pool_size(config_);
    if (pool.size() != expected) {
      return corrupt(failure, "its pool has " + std::to_string(pool.size()) +
                                  " bytes where its config needs " + std::to_string(expected));
    }
    TopicPoolPreamble preamble;
    std::memcpy(&preamble, pool.data(), sizeof preamble);
    if (preamble.magic != k_topic_pool_magic || preamble.sample_size != config_.sample_size ||
        preamble.sample_count != config_.sample_count || preamble.stride != config_.stride) {
      return corrupt(failure, "its pool's preamble does not match its config");
    }
    status.pool_bytes = pool.size();
    return true;
  }

  const TopicControl& control_state() const {
    return *reinterpret_cast<const TopicControl*>(base_);
  }

  // Slots, queues, history and holders: everything publishers and
  // subscribers change. False (with `failure`) if any of it is invalid.
  bool read_state(TopicStatus& status, Failure& failure) {
    const TopicControl& c = control_state();
    status.published = load(c.sequence);
    const Identity lock = read_identity(load(c.lock_owner));
    status.lock_held = lock.held;
    status.lock_pid = lock.pid;
    status.lock_holder_alive = lock.alive;

    const auto publishers = static_cast<std::size_t>(config_.max_publishers);
    const auto subscribers = static_cast<std::size_t>(config_.max_subscribers);
    const auto depth_limit = static_cast<std::size_t>(config_.max_queue_depth);
    const auto count = static_cast<std::size_t>(config_.sample_count);

    status.publishers.clear();
    for (std::size_t i = 0; i < publishers; ++i) {
      const TopicPublisherSlot& slot = c.publishers[i];
      const Identity who = read_identity(load(slot.identity));
      if (!who.held) continue;
      TopicPublisherStatus p;
      p.slot = i;
      p.pid = who.pid;
      p.alive = who.alive;
      p.generation = load(slot.generation);
      status.publishers.push_back(p);
    }

    const auto* queues = reinterpret_cast<const TopicQueueEntry*>(base_ + offsets_.queues);
    status.subscribers.clear();
    for (std::size_t i = 0; i < subscribers; ++i) {
      const TopicSubscriberSlot& slot = c.subscribers[i];
      const std::string which = "subscriber slot " + std::to_string(i);
      const Identity who = read_identity(load(slot.identity));
      if (!who.held) continue;
      TopicSubscriberStatus s;
      s.slot = i;
      s.pid = who.pid;
      s.alive = who.alive;
      s.generation = load(slot.generation);
      const std::uint32_t depth = load(slot.queue_depth);
      if (depth == 0 || depth > depth_limit) {
        return corrupt(failure, which + " has a queue depth of " + std::to_string(depth) + " (1.." +
                                    std::to_string(depth_limit) + ")");
      }
      const std::uint32_t policy = load(slot.policy);
      if (policy > static_cast<std::uint32_t>(OverflowPolicy::block_publisher)) {
        return corrupt(failure,
                       which + " has an unknown overflow policy " + std::to_string(policy));
      }
      // tail, head, tail again: equal tails mean head was read while the
      // tail stood there (both only ever grow).
      const std::uint64_t tail = load(slot.tail);
      const std::uint64_t head = load(slot.head);
      if (load(slot.tail) != tail) {
        return corrupt(failure, which + "'s queue kept moving while it was read");
      }
      if (head < tail || head - tail > depth) {
        return corrupt(failure, which + "'s queue holds " +
                                    (head < tail ? std::string("a negative count")
                                                 : std::to_string(head - tail)) +
                                    " samples, more than its depth " + std::to_string(depth));
      }
      for (std::uint64_t n = tail; n != head; ++n) {
        const std::uint32_t index =
            queues[i * depth_limit + n % depth].index.load(std::memory_order_relaxed);
        if (index >= count) {
          return corrupt(failure, which + "'s queue holds sample " + std::to_string(index) +
                                      " of " + std::to_string(count));
        }
      }
      s.queued = static_cast<std::size_t>(head - tail);
      s.queue_depth = depth;
      s.overflow = static_cast<OverflowPolicy>(policy);
      s.dropped = load(slot.dropped);
      status.subscribers.push_back(s);
    }

    if (config_.history != 0) {
      const auto* history =
          reinterpret_cast<const std::atomic<std::uint32_t>*>(base_ + offsets_.history);
      const std::uint64_t stored = load(c.history_count);
      const std::uint64_t kept = stored < config_.history ? stored : config_.history;
      for (std::uint64_t n = 0; n < kept; ++n) {
        const std::uint32_t index = history[n].load(std::memory_order_relaxed);
        if (index >= count) {
          return corrupt(failure, "its history holds sample " + std::to_string(index) + " of " +
                                      std::to_string(count));
        }
      }
    }

    // Bits a holders word may have: a subscriber slot, a publisher slot (and
    // its spare mark), the history.
    std::uint64_t allowed = k_history_bit;
    for (std::size_t i = 0; i < subscribers; ++i) allowed |= subscriber_bit(i);
    for (std::size_t j = 0; j < publishers; ++j) allowed |= publisher_bit(j) | spare_bit(j);
    const auto* holders =
        reinterpret_cast<const std::atomic<std::uint64_t>*>(base_ + offsets_.holders);
    status.free_samples = status.on_loan = status.in_history = 0;
    for (std::size_t k = 0; k < count; ++k) {
      const std::uint64_t bits = load(holders[k]);
      if ((bits & ~allowed) != 0) {
        return corrupt(failure, "sample " + std::to_string(k) + " names holders that cannot exist");
      }
      // A publisher's spare is free for any loan (topic_layout.hpp).
      if (bits == 0 || is_spare_word(bits, publishers)) {
        ++status.free_samples;
        continue;
      }
      if ((bits & k_history_bit) != 0) ++status.in_history;
      bool loaned = false;
      for (auto& p : status.publishers) {
        if ((bits & publisher_bit(p.slot)) != 0) {
          ++p.loans;
          loaned = true;
        }
      }
      if (!loaned && (bits >> 32 & 0xffu) != 0) loaned = true;  // a free or closed slot's loan
      if (loaned) ++status.on_loan;
      for (auto& s : status.subscribers) {
        if ((bits & subscriber_bit(s.slot)) != 0) ++s.held;
      }
    }
    status.samples_in_use = count - status.free_samples;
    return true;
  }

  std::string name_;
  std::string what_;
  SegmentOptions options_;
  NamedSharedMemory control_;
  const unsigned char* base_ = nullptr;  // TopicControl, in control_'s mapping
  TopicConfigWords config_{};
  TopicOffsets offsets_{};
};

TopicStatus inspect(std::string_view name, const ObjectOptions& options, Failure& failure) {
  return TopicReader(std::string(name), options).run(failure);
}

}  // namespace
}  // namespace detail

TopicStatus inspect_topic(std::string_view name, const ObjectOptions& options) {
  return detail::throwing([&](detail::Failure& f) { return detail::inspect(name, options, f); });
}

TopicStatus inspect_topic(std::string_view name, const ObjectOptions& options,
                          std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](detail::Failure& f) { return detail::inspect(name, options, f); });
}

SHMKIT_END_NAMESPACE
