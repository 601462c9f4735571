// Sequenced, checksummed messages for the ring, channel and server soaks, and
// the bookkeeping that lets a restarted producer or consumer account for what
// its killed predecessor did.
//
// Producer side: `next` in shared memory is the next sequence to send and
// `confirmed` is one past the last one known committed (stored right after the
// send returned). A producer that starts cannot know whether its
// predecessor's last message (sequence `next`) made it into the ring before
// the kill, so it skips that sequence and stores next + 1 before sending
// anything; its messages carry `confirmed` as it found it ("uncertain from"):
// sequences from there up to its first one may be missing (skipped by this or
// an earlier restart that sent nothing, or sent by a producer killed before
// it could confirm), any earlier one is lost.
//
// Consumer side: `consumed` is stored after a message is checked and before
// it is released, so a restarted consumer may see the one message its
// predecessor checked but never released again, and nothing else twice.
#pragma once

#include "soak.hpp"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace shmkit::soak {

inline constexpr std::uint64_t k_none = ~std::uint64_t{0};

struct MessageHead {
  std::uint64_t sequence;
  std::uint64_t uncertain;  // "uncertain from": see above; k_none for the first producer
  std::uint64_t sum;        // checksum of the body, seeded with the two above
  std::uint64_t size;       // of the whole message
};

inline std::size_t message_size(std::uint64_t sequence, std::size_t largest) {
  const std::size_t size = sizeof(MessageHead) + (sequence * 7919) % 600;
  return size < largest ? size : largest;
}

inline void fill_message(void* out, std::size_t size, std::uint64_t sequence,
                         std::uint64_t uncertain) {
  auto* bytes = static_cast<unsigned char*>(out);
  for (std::size_t i = sizeof(MessageHead); i < size; ++i) {
    bytes[i] = static_cast<unsigned char>(sequence * 131 + i);
  }
  MessageHead head{sequence, uncertain, 0, size};
  head.sum = checksum(bytes + sizeof head, size - sizeof head, sequence ^ (uncertain * 3));
  std::memcpy(bytes, &head, sizeof head);
}

// The receiving side's view of one stream.
class StreamChecker {
 public:
  // `expected`: the first sequence not yet accounted for; `restarted`: the
  // predecessor may have left one checked but unreleased message.
  StreamChecker(std::uint64_t expected, bool restarted)
      : expected_(expected), redelivery_allowed_(restarted) {}

  // Judges one message; updates `figures`. Returns false if it was corrupt.
  bool judge(const void* data, std::size_t size, Figures& figures, const char* who) {
    MessageHead head{};
    if (size >= sizeof head) std::memcpy(&head, data, sizeof head);
    const auto* bytes = static_cast<const unsigned char*>(data);
    if (size < sizeof head || head.size != size ||
        head.sum != checksum(bytes + sizeof head, size - sizeof head,
                             head.sequence ^ (head.uncertain * 3))) {
      figures.corrupt.fetch_add(1);
      std::fprintf(stderr, "soak: %s: a corrupt message of %zu bytes after sequence %llu\n", who,
                   size, static_cast<unsigned long long>(expected_));
      redelivery_allowed_ = false;
      return false;
    }
    const bool redelivery_allowed = std::exchange(redelivery_allowed_, false);
    if (head.sequence == expected_) {
      figures.checked.fetch_add(1);
      ++expected_;
      return true;
    }
    if (head.sequence < expected_) {
      if (redelivery_allowed && head.sequence + 1 == expected_)
        return true;  // checked, not released
      figures.duplicated.fetch_add(1);
      std::fprintf(stderr, "soak: %s: sequence %llu again (expected %llu)\n", who,
                   static_cast<unsigned long long>(head.sequence),
                   static_cast<unsigned long long>(expected_));
      return true;
    }
    // Only sequences below the producer's "uncertain from" are sure to exist.
    const std::uint64_t missing =
        std::min(head.sequence, head.uncertain) - std::min(expected_, head.uncertain);
    if (missing != 0) {
      figures.lost.fetch_add(missing);
      std::fprintf(stderr,
                   "soak: %s: %llu messages lost before sequence %llu (expected %llu, its "
                   "producer is unsure from %lld%s)\n",
                   who, static_cast<unsigned long long>(missing),
                   static_cast<unsigned long long>(head.sequence),
                   static_cast<unsigned long long>(expected_),
                   static_cast<long long>(head.uncertain),
                   redelivery_allowed ? ", first message after a restart" : "");
    }
    figures.checked.fetch_add(1);
    expected_ = head.sequence + 1;
    return true;
  }

  std::uint64_t expected() const noexcept { return expected_; }

 private:
  std::uint64_t expected_;
  bool redelivery_allowed_;
};

// What remains unaccounted for once the producer is dead and the consumer has
// drained: confirmed sequences that never arrived.
inline std::uint64_t missing_at_end(std::uint64_t expected, std::uint64_t confirmed) {
  return expected >= confirmed ? 0 : confirmed - expected;
}

}  // namespace shmkit::soak
