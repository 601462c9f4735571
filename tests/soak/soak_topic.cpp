// Topic (publish/subscribe) under kill -9: one publisher process and four
// subscriber processes (two drop_oldest, one that also keeps the sample it
// received last, one block_publisher, one drop_oldest asking for history),
// any of them killed at any moment and restarted; a restarted publisher
// takes the topic over (the first one creates it, so creators die too).
//
// Every sample carries a payload sequence, the publisher incarnation that
// wrote it and a checksum over its body. Each subscriber incarnation checks:
// - every sample whole (checksum, size), and the one it keeps is checked
//   again before it is dropped (a sample reused while held shows there);
// - payload and topic sequences strictly increasing (no duplicate, no
//   reordering);
// - nothing missing: between two samples of one publisher attach
//   (publisher_generation) the topic sequence skips only what dropped()
//   counted; the block_publisher subscriber never drops and never skips.
//
// The scenario runs in rounds of a few seconds. At the end of each:
// - the block_publisher subscriber stops receiving until its queue is full
//   (the publisher then waits on it), is killed, and the publisher must go on
//   publishing without it (a publisher waiting on a dead subscriber is a
//   hang);
// - every process is killed, the driver attaches a publisher of its own
//   (which reclaims what the dead held) and publishes until the pool holds
//   nothing but the topic's history (inspect_topic's figures); a sample that
//   never comes back is a leak.
// At the end remove_stale must leave nothing under the scenario's prefix, in
// list_segments or in /dev/shm.
#include "soak.hpp"

#include <dirent.h>
#include <unistd.h>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace shmkit::soak {
namespace {

constexpr int k_subscribers = 4;
constexpr std::size_t k_publisher_slot = 0;
constexpr std::size_t k_block_slot = 1 + 2;  // subscriber 2
constexpr std::size_t k_sample_size = 256;
constexpr std::size_t k_sample_count = 12;
constexpr std::size_t k_queue_depth = 4;
constexpr std::size_t k_history = 3;
constexpr auto k_wait = std::chrono::milliseconds(50);
constexpr auto k_round = std::chrono::milliseconds(2500);
// The driver's own publisher writes with this incarnation.
constexpr std::uint64_t k_driver = 0xd1d1d1d1u;

TopicConfig topic_config() {
  TopicConfig config;
  config.sample_size = k_sample_size;
  config.sample_count = k_sample_count;
  config.max_publishers = 2;  // the publisher role and the driver's, or a dead one's slot
  config.max_subscribers = 8;
  config.max_queue_depth = k_queue_depth;
  config.history = k_history;
  return config;
}

struct SubscriberKind {
  const char* name;
  OverflowPolicy overflow;
  std::size_t queue_depth;
  std::size_t history;
  bool keeps_last;  // holds the sample it received last while receiving the next
  bool slow;        // pauses now and then, so that its queue overflows
};

constexpr SubscriberKind k_kinds[k_subscribers] = {
    {"topic drop subscriber", OverflowPolicy::drop_oldest, k_queue_depth, 0, false, false},
    {"topic keeping subscriber", OverflowPolicy::drop_oldest, 2, 0, true, true},
    {"topic block subscriber", OverflowPolicy::block_publisher, k_queue_depth, 0, false, false},
    {"topic history subscriber", OverflowPolicy::drop_oldest, k_queue_depth, k_history, false,
     true},
};

struct TopicControl {
  Figures figures;                          // heartbeat[0]: the publisher, [1 + i]: subscriber i
  std::atomic<std::uint64_t> next;          // publishers: the next payload sequence
  std::atomic<std::uint64_t> published;     // samples published (publisher role and driver)
  std::atomic<std::uint64_t> pause_block;   // the block subscriber stops receiving
  std::atomic<std::uint64_t> dropped;       // what drop_oldest subscribers saw dropped()
  std::atomic<std::uint64_t> gaps;          // topic sequences skipped, explained by dropped()
  std::atomic<std::uint64_t> from_history;  // samples received as history on attach
  // receive's errc::corrupted for a queue nobody overwrote (head - tail >
  // depth): pop() reads the tail, then the head, and publishers dropping and
  // pushing in between make them disagree. A library bug; counted in errors.
  std::atomic<std::uint64_t> stale_tail_reports;
};

struct Payload {
  std::uint64_t sequence;
  std::uint64_t incarnation;
  std::uint64_t size;
  std::uint64_t sum;
};

std::size_t payload_size(std::uint64_t sequence) {
  return sizeof(Payload) + (sequence * 7919) % (k_sample_size - sizeof(Payload) + 1);
}

std::uint64_t payload_sum(const unsigned char* body, std::size_t size, const Payload& p) {
  return checksum(body, size, p.sequence ^ (p.incarnation << 1) ^ 0x70);
}

void fill_payload(std::byte* out, std::size_t size, std::uint64_t sequence,
                  std::uint64_t incarnation) {
  auto* bytes = reinterpret_cast<unsigned char*>(out);
  for (std::size_t i = sizeof(Payload); i < size; ++i) {
    bytes[i] = static_cast<unsigned char>(sequence * 151 + incarnation * 7 + i);
  }
  Payload p{sequence, incarnation, size, 0};
  p.sum = payload_sum(bytes + sizeof p, size - sizeof p, p);
  std::memcpy(bytes, &p, sizeof p);
}

// False (and counted corrupt) unless the sample is whole.
bool whole(const Sample& sample, Figures& figures, const char* who, const char* when) {
  Payload p{};
  const auto* bytes = reinterpret_cast<const unsigned char*>(sample.data());
  if (sample.size() >= sizeof p) std::memcpy(&p, bytes, sizeof p);
  if (sample.size() >= sizeof p && p.size == sample.size() &&
      p.sum == payload_sum(bytes + sizeof p, sample.size() - sizeof p, p)) {
    return true;
  }
  figures.corrupt.fetch_add(1);
  std::fprintf(stderr, "soak: %s: a torn sample %s (topic sequence %llu, %zu bytes)\n", who, when,
               static_cast<unsigned long long>(sample.sequence()), sample.size());
  return false;
}

WaitOptions wait_for_incarnation(std::uint64_t incarnation) {
  WaitOptions wait;
  wait.strategy = incarnation % 2 == 0 ? WaitStrategy::adaptive : WaitStrategy::blocking;
  return wait;
}

// Loans, fills and publishes one sample with the next payload sequence;
// false if it did not go before its deadlines (the sequence is then kept for
// the next try).
bool publish_one(Publisher& publisher, TopicControl& c, std::uint64_t& sequence,
                 std::uint64_t incarnation, const char* who) {
  Figures& f = c.figures;
  const std::size_t size = payload_size(sequence);
  std::error_code ec;
  const Deadline loan_deadline = deadline_after(k_wait);
  Loan loan = bounded_wait(f, loan_deadline, "loan_until",
                           [&] { return publisher.loan_until(size, loan_deadline, ec); });
  if (ec) report_error(f, who, "loan: " + error_message(ec));
  if (!loan) return false;
  fill_payload(loan.data(), size, sequence, incarnation);
  const Deadline deadline = deadline_after(k_wait);
  const bool sent = bounded_wait(f, deadline, "publish_until",
                                 [&] { return publisher.publish_until(loan, deadline, ec); });
  if (ec) report_error(f, who, "publish: " + error_message(ec));
  if (!sent) return false;  // the loan goes back to the pool
  c.published.fetch_add(1);
  c.next.store(++sequence);
  return true;
}

// The sequence a publisher starts from: its predecessor may have published
// `next` and been killed before it could record it, so it is skipped.
std::uint64_t take_over(TopicControl& c) {
  const std::uint64_t sequence = c.next.load() + 1;
  c.next.store(sequence);
  return sequence;
}

// One subscriber incarnation's view of what it receives.
class Checker {
 public:
  Checker(TopicControl& c, const SubscriberKind& kind) : c_(c), kind_(kind) {}

  void judge(const Sample& sample, std::uint64_t dropped_before, std::uint64_t dropped) {
    Figures& f = c_.figures;
    if (!whole(sample, f, kind_.name, "on receipt")) return;
    Payload p{};
    std::memcpy(&p, sample.data(), sizeof p);
    const std::uint64_t topic_sequence = sample.sequence();
    const std::uint32_t generation = sample.publisher_generation();
    if (received_ != 0 && (p.sequence <= last_payload_ || topic_sequence <= last_topic_)) {
      if (p.sequence == last_payload_ || topic_sequence == last_topic_) {
        f.duplicated.fetch_add(1);
      } else {
        f.corrupt.fetch_add(1);
      }
      std::fprintf(stderr,
                   "soak: %s: sample %llu (topic sequence %llu) after %llu (topic sequence %llu): "
                   "out of order or twice\n",
                   kind_.name, static_cast<unsigned long long>(p.sequence),
                   static_cast<unsigned long long>(topic_sequence),
                   static_cast<unsigned long long>(last_payload_),
                   static_cast<unsigned long long>(last_topic_));
      return;
    }
    // Between two samples of one publisher attach (generation) every topic
    // sequence was published to this subscriber: only drop_oldest may have
    // taken them, and dropped() counts those. The counts are compared per
    // attach, over all of it: a drop may be counted a sample before or after
    // the gap shows. What dropped() grows by while the generation changes is
    // not counted (that publisher may have died between dropping and
    // counting).
    if (received_ == 0 || generation != last_generation_) {
      // Drops counted before this sample was taken are of older ones; those
      // counted since, of later ones.
      gaps_ = 0;
      credit_ = dropped - std::min(dropped, dropped_before);
      pending_ = false;
    } else {
      gaps_ += topic_sequence - last_topic_ - 1;
      c_.gaps.fetch_add(topic_sequence - last_topic_ - 1);
      credit_ += dropped - last_dropped_;
    }
    last_dropped_ = dropped;
    // A publisher counts a drop just after taking the sample out of the
    // queue, so a shortfall is judged once that publisher has published
    // again beyond a queue's worth.
    if (gaps_ > credit_ && !pending_) {
      pending_ = true;
      pending_gaps_ = gaps_;
      pending_until_ = topic_sequence + kind_.queue_depth + 1;
    }
    if (pending_ && topic_sequence >= pending_until_) {
      pending_ = false;
      if (pending_gaps_ > credit_) {
        f.lost.fetch_add(pending_gaps_ - credit_);
        std::fprintf(stderr,
                     "soak: %s: %llu samples missing before topic sequence %llu (publisher "
                     "generation %u): %llu skipped, %llu counted dropped\n",
                     kind_.name, static_cast<unsigned long long>(pending_gaps_ - credit_),
                     static_cast<unsigned long long>(topic_sequence), generation,
                     static_cast<unsigned long long>(pending_gaps_),
                     static_cast<unsigned long long>(credit_));
        credit_ = pending_gaps_;  // reported once
      }
    }
    if (kind_.overflow == OverflowPolicy::block_publisher && dropped != 0 && !reported_drop_) {
      reported_drop_ = true;
      f.lost.fetch_add(dropped);
      std::fprintf(stderr, "soak: %s: dropped() is %llu\n", kind_.name,
                   static_cast<unsigned long long>(dropped));
    }
    if (received_ < kind_.history && p.sequence < first_live_) c_.from_history.fetch_add(1);
    f.checked.fetch_add(1);
    ++received_;
    last_payload_ = p.sequence;
    last_topic_ = topic_sequence;
    last_generation_ = generation;
  }

  // Payload sequences below this were published before this subscriber
  // attached.
  void attached_at(std::uint64_t next) { first_live_ = next; }

 private:
  TopicControl& c_;
  const SubscriberKind& kind_;
  std::uint64_t received_ = 0;
  std::uint64_t last_payload_ = 0;
  std::uint64_t last_topic_ = 0;
  std::uint32_t last_generation_ = 0;
  std::uint64_t gaps_ = 0;    // topic sequences skipped within this publisher attach
  std::uint64_t credit_ = 0;  // dropped() growth over the same intervals
  std::uint64_t last_dropped_ = 0;
  std::uint64_t first_live_ = 0;
  bool reported_drop_ = false;
  bool pending_ = false;  // a shortfall of dropped() to judge later
  std::uint64_t pending_gaps_ = 0;
  std::uint64_t pending_until_ = 0;
};

}  // namespace

// args: topic control incarnation
SHMKIT_SOAK_ROLE(topic_publisher) {
  auto control = open_control(args.at(1));
  auto& c = *static_cast<TopicControl*>(control.data());
  const std::uint64_t me = incarnation(args);
  PublisherOptions options;
  options.wait = wait_for_incarnation(me);
  Publisher publisher = open_with_retry(
      c.figures, c.figures.heartbeat[k_publisher_slot], "topic publisher",
      [&](auto& ec) { return Publisher::open_or_create(args.at(0), topic_config(), options, ec); });
  std::uint64_t sequence = take_over(c);
  for (;;) {
    c.figures.heartbeat[k_publisher_slot].fetch_add(1);
    publish_one(publisher, c, sequence, me, "topic publisher");
  }
}

// args: topic control subscriber-index incarnation
SHMKIT_SOAK_ROLE(topic_subscriber) {
  auto control = open_control(args.at(1));
  auto& c = *static_cast<TopicControl*>(control.data());
  Figures& f = c.figures;
  const auto index = static_cast<std::size_t>(std::stoul(args.at(2)));
  const SubscriberKind& kind = k_kinds[index];
  const std::uint64_t me = incarnation(args);
  std::atomic<std::uint64_t>& beat = f.heartbeat[1 + index];
  SubscriberOptions options;
  options.wait = wait_for_incarnation(me + index);
  options.overflow = kind.overflow;
  options.queue_depth = kind.queue_depth;
  options.history = kind.history;
  Checker checker(c, kind);
  checker.attached_at(c.next.load());
  // The topic is made by the first publisher: wait for it (Subscriber::open
  // says not_found until then).
  Subscriber subscriber = open_with_retry(
      f, beat, kind.name, [&](auto& ec) { return Subscriber::open(args.at(0), options, ec); });
  Sample kept;
  std::uint64_t dropped_seen = 0;
  std::uint64_t pause_seed = (me + 1) * 0x9e3779b97f4a7c15ULL;
  for (;;) {
    beat.fetch_add(1);
    if (kind.overflow == OverflowPolicy::block_publisher && c.pause_block.load() != 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    std::error_code ec;
    const std::uint64_t dropped_before = subscriber.dropped();
    const Deadline deadline = deadline_after(k_wait);
    Sample sample = bounded_wait(f, deadline, "receive_until",
                                 [&] { return subscriber.receive_until(deadline, ec); });
    if (!sample) {
      // peer_gone: the publisher was killed; its successor clears it.
      if (ec == errc::peer_gone) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      } else if (ec) {
        const std::string message = error_message(ec);
        if (ec == errc::corrupted &&
            message.find("this subscriber's queue (depth") != std::string::npos) {
          c.stale_tail_reports.fetch_add(1);
        }
        report_error(f, kind.name, "receive: " + message);
      }
      continue;
    }
    const std::uint64_t dropped = subscriber.dropped();
    checker.judge(sample, dropped_before, dropped);
    c.dropped.fetch_add(dropped - dropped_seen);
    dropped_seen = dropped;
    if (kind.keeps_last) {
      if (kept) whole(kept, f, kind.name, "after it was held");
      kept = std::move(sample);
    }
    pause_seed = pause_seed * 6364136223846793005ULL + 1442695040888963407ULL;
    if (kind.slow && (pause_seed >> 60) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
}

namespace {

std::string describe(const TopicStatus& s) {
  std::string text = "free " + std::to_string(s.free_samples) + " of " +
                     std::to_string(s.config.sample_count) + ", on loan " +
                     std::to_string(s.on_loan) + ", in history " + std::to_string(s.in_history);
  for (const auto& p : s.publishers) {
    text += "; publisher slot " + std::to_string(p.slot) + " pid " + std::to_string(p.pid) +
            (p.alive ? " alive" : " dead") + " loans " + std::to_string(p.loans);
  }
  for (const auto& sub : s.subscribers) {
    text += "; subscriber slot " + std::to_string(sub.slot) + " pid " + std::to_string(sub.pid) +
            (sub.alive ? " alive" : " dead") + " queued " + std::to_string(sub.queued) + " held " +
            std::to_string(sub.held);
  }
  return text;
}

// Blocks the block_publisher subscriber until its queue is full, kills it,
// and checks that the publisher goes on. Counts a hang if it does not; true
// if the publisher was blocked and went on.
bool probe_dead_blocker(TopicControl& c, Cast& cast, Result& result, const std::string& topic,
                        std::uint64_t& subscriber_kills) {
  const auto pid = static_cast<std::uint64_t>(cast.slot(k_block_slot).process.pid());
  c.pause_block.store(1);
  const auto give_up = Clock::now() + k_hang;
  bool full = false;
  while (!full && Clock::now() < give_up) {
    std::error_code ec;
    const TopicStatus status = inspect_topic(topic, {}, ec);
    for (const auto& s : status.subscribers) {
      if (s.pid == pid && s.alive && s.queued == s.queue_depth) full = true;
    }
    for (std::size_t i = 0; i < cast.size(); ++i) cast.watch(i);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  cast.slot(k_block_slot).process.kill_and_reap();
  result.kills += 1;
  subscriber_kills += 1;
  c.pause_block.store(0);
  if (!full) {
    // Not a library fault by itself (the publisher may have been starved);
    // said in verbose runs only.
    if (verbose()) std::fprintf(stderr, "soak: topic: the block subscriber's queue never filled\n");
    return false;
  }
  // More than a full queue: a publisher still waiting for the dead one could
  // not publish these.
  const std::uint64_t goal = c.published.load() + 2 * k_queue_depth;
  const auto deadline = Clock::now() + k_hang;
  while (c.published.load() < goal && Clock::now() < deadline) {
    for (std::size_t i = 0; i < cast.size(); ++i) {
      if (i != k_block_slot) cast.watch(i);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (c.published.load() < goal) {
    result.hangs += 1;
    std::error_code ec;
    std::fprintf(
        stderr,
        "soak: HANG: topic: the publisher published nothing for %lld s after its "
        "block_publisher subscriber was killed with a full queue (%s)\n",
        static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(k_hang).count()),
        describe(inspect_topic(topic, {}, ec)).c_str());
    return false;
  }
  return true;
}

// With every role dead: a publisher of the driver's reclaims what they held
// and publishes until the pool holds nothing but the history. Returns the
// samples that never came back.
std::uint64_t check_pool(TopicControl& c, const std::string& topic, int round) {
  std::error_code ec;
  if (!Topic::exists(topic, {}, ec)) return 0;  // every creator was killed before it was made
  Publisher publisher = Publisher::open(topic, {}, ec);
  if (ec) {
    report_error(c.figures, "topic driver", "cannot open a publisher: " + error_message(ec));
    return 0;
  }
  std::uint64_t sequence = take_over(c);
  const auto give_up = Clock::now() + k_hang;
  TopicStatus status;
  for (;;) {
    publish_one(publisher, c, sequence, k_driver, "topic driver");
    status = inspect_topic(topic, {}, ec);
    if (ec) {
      report_error(c.figures, "topic driver", "inspect_topic: " + error_message(ec));
      return 0;
    }
    if (status.in_history > k_history) {
      report_error(c.figures, "topic driver",
                   "more samples in history than the topic keeps: " + describe(status));
    }
    if (status.free_samples + status.in_history == k_sample_count && status.on_loan == 0) break;
    if (Clock::now() > give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  publisher.close();
  const TopicStatus after = inspect_topic(topic, {}, ec);
  if (!ec) status = after;
  const std::uint64_t missing =
      k_sample_count - std::min(k_sample_count, status.free_samples + status.in_history);
  if (verbose()) {
    std::fprintf(stderr, "soak: topic: after round %d: %s\n", round, describe(status).c_str());
  }
  if (missing != 0) {
    std::fprintf(stderr,
                 "soak: topic: after round %d, %llu samples never returned to the pool: %s\n",
                 round, static_cast<unsigned long long>(missing), describe(status).c_str());
  }
  return missing;
}

// Names under `prefix` still in /dev/shm (what list_segments would not see).
std::vector<std::string> left_in_dev_shm(const std::string& prefix) {
  std::vector<std::string> left;
  DIR* dir = ::opendir("/dev/shm");
  if (dir == nullptr) return left;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.find(prefix) == std::string::npos) continue;
    left.push_back("/dev/shm/" + name);
    ::unlink(left.back().c_str());  // reported; now out of the way
  }
  ::closedir(dir);
  return left;
}

}  // namespace

SHMKIT_SOAK_SCENARIO(topic, 1) {
  Result result;
  result.unit = "samples";
  const std::string topic_name = prefix + "t";
  const std::string control_name = prefix + "ctl";
  auto control = create_control(control_name, sizeof(TopicControl));
  auto& c = *static_cast<TopicControl*>(control.data());
  Cast cast(c.figures, result);
  cast.add("topic_publisher", [&] { return std::vector<std::string>{topic_name, control_name}; });
  for (int i = 0; i < k_subscribers; ++i) {
    cast.add("topic_subscriber", [&, i] {
      return std::vector<std::string>{topic_name, control_name, std::to_string(i)};
    });
  }
  std::uint64_t publisher_kills = 0;
  std::uint64_t subscriber_kills = 0;
  int rounds = 0;
  int unblocked = 0;  // rounds whose publisher was blocked by a subscriber killed then
  const auto end = Clock::now() + budget.duration;
  while (Clock::now() < end && result.kills < budget.max_kills) {
    cast.start_all();
    std::uint64_t seen = c.published.load();
    auto progress_at = Clock::now();
    const Budget round_budget{
        std::min(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()),
                 std::chrono::duration_cast<std::chrono::milliseconds>(k_round)),
        budget.max_kills, budget.random};
    cast.run(
        round_budget, {1, 1, 1, 1, 1},
        [&] {
          // Nothing published for k_hang while the publisher is restarted
          // after every kill: something waits for ever.
          const std::uint64_t now_published = c.published.load();
          if (now_published != seen) {
            seen = now_published;
            progress_at = Clock::now();
          } else if (Clock::now() - progress_at > k_hang) {
            result.hangs += 1;
            std::error_code ec;
            std::fprintf(stderr, "soak: HANG: topic: nothing published for %lld s (%s)\n",
                         static_cast<long long>(
                             std::chrono::duration_cast<std::chrono::seconds>(k_hang).count()),
                         describe(inspect_topic(topic_name, {}, ec)).c_str());
            return true;
          }
          return false;
        },
        [&](std::size_t slot) {
          (slot == k_publisher_slot ? publisher_kills : subscriber_kills) += 1;
        });
    if (probe_dead_blocker(c, cast, result, topic_name, subscriber_kills)) ++unblocked;
    cast.kill_all();
    result.leaked += check_pool(c, topic_name, rounds);
    ++rounds;
  }

  collect(c.figures, result);
  if (verbose()) {
    std::fprintf(stderr,
                 "soak: topic: %llu samples dropped by drop_oldest subscribers, %llu topic "
                 "sequences skipped by them, %llu received as history\n",
                 static_cast<unsigned long long>(c.dropped.load()),
                 static_cast<unsigned long long>(c.gaps.load()),
                 static_cast<unsigned long long>(c.from_history.load()));
  }
  char extra[300];
  std::snprintf(extra, sizeof extra,
                " (%llu publisher, %llu subscriber kills; %llu published; %d rounds, %d with the "
                "publisher freed from a killed blocking subscriber)",
                static_cast<unsigned long long>(publisher_kills),
                static_cast<unsigned long long>(subscriber_kills),
                static_cast<unsigned long long>(c.published.load()), rounds, unblocked);
  result.extra = extra;
  if (const std::uint64_t stale = c.stale_tail_reports.load()) {
    std::snprintf(extra, sizeof extra,
                  ", %llu of the errors: receive said corrupted with a stale queue tail "
                  "(library bug)",
                  static_cast<unsigned long long>(stale));
    result.extra += extra;
  }
  result.left_behind = clean_and_list(prefix, control_name);
  control.close();
  NamedSharedMemory::remove(control_name);
  for (std::string& name : left_in_dev_shm(prefix)) result.left_behind.push_back(std::move(name));
  return result;
}

}  // namespace shmkit::soak
