// A received sample, read-only (see subscriber.hpp).
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/byte_span.hpp>
#include <shmkit/export.hpp>

#include <cstddef>
#include <cstdint>

SHMKIT_BEGIN_NAMESPACE

class Subscriber;

namespace detail {
struct SubscriberImpl;
struct SampleAccess;
}  // namespace detail

// One subscriber's reference to a published sample: its bytes stay as the
// publisher wrote them for as long as the Sample lives, and the sample goes
// back to the pool when its last holder (every subscriber that got it, and
// the topic's history) has dropped it. Move-only. It keeps its subscriber's
// state alive, so it may outlive the Subscriber handle (the subscriber's
// slot is released when the last of them goes).
//
// The bytes are mapped read-only: writing through data() (const_cast) kills
// the process with an access violation, and cannot change what other
// subscribers see.
//
// Threads: as its Subscriber. Fork: a forked child may read an inherited
// sample but must not destroy it (that would give back the parent's
// reference): exec or _exit in the child, as with any inherited handle.
class SHMKIT_EXPORT Sample {
 public:
  Sample() noexcept = default;  // empty: data() is null, size() and sequence() 0
  Sample(Sample&& other) noexcept;
  Sample& operator=(Sample&& other) noexcept;
  Sample(const Sample&) = delete;
  Sample& operator=(const Sample&) = delete;
  ~Sample();

  const std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  ConstByteSpan bytes() const noexcept { return ConstByteSpan{data_, size_}; }
  // The topic-wide publish sequence number: 1 for the topic's first sample,
  // then +1 per publish by any publisher.
  std::uint64_t sequence() const noexcept { return sequence_; }
  // The generation of the publisher slot attach that published it.
  std::uint32_t publisher_generation() const noexcept { return generation_; }

  explicit operator bool() const noexcept { return data_ != nullptr; }

 private:
  friend class Subscriber;
  friend struct detail::SampleAccess;
  void reset() noexcept;

  detail::SubscriberImpl* owner_ = nullptr;  // one counted reference
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::uint64_t sequence_ = 0;
  std::uint32_t index_ = 0;
  std::uint32_t generation_ = 0;
};

SHMKIT_END_NAMESPACE
