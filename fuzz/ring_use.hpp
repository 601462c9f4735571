// Using one end of a ring with 1 ms deadlines, shared by the ring, channel
// and server targets. Whatever the ring's memory holds, every message handed
// out must fit the ring and be readable to its end.
#pragma once

#include "fuzz_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace shmkit::fuzz {

// The fuzz targets' quick options as a ring's or a channel's.
template <typename To>
To object_options(const ObjectOptions& from, const WaitOptions& wait = {}) {
  To options;
  static_cast<ObjectOptions&>(options) = from;
  options.wait = wait;
  return options;
}

inline void check_message(const RingConsumer& ring, ConstByteSpan message) {
  if (message.size > ring.max_message_size()) {
    std::fprintf(stderr, "fuzz: ring handed out a message of %zu bytes; its largest is %zu\n",
                 message.size, ring.max_message_size());
    std::abort();
  }
  // Every byte must be readable: a span outside the mapping faults here.
  unsigned sum = 0;
  for (std::size_t i = 0; i < message.size; ++i) sum += static_cast<unsigned>(message.data[i]);
  volatile unsigned sink = sum;
  (void)sink;
  volatile std::uint32_t generation = ring.message_generation();  // any value, never a fault
  (void)generation;
}

inline void use(RingProducer& ring, std::uint8_t mode) {
  if (!ring.is_open()) return;
  std::error_code ec;
  std::vector<unsigned char> payload(ring.max_message_size() + 1, 0x5a);
  const std::size_t small = 1 + mode % 40;
  attempt("try_send", [&] { (void)ring.try_send(payload.data(), small); });
  attempt("send_for 1 ms",
          [&] { (void)ring.send_for(payload.data(), ring.max_message_size() / 2, k_short); });
  attempt("send_until too large", [&] {
    (void)ring.send_until(payload.data(), payload.size(), deadline_after(k_short), ec);
  });
  attempt("reserve_for and commit", [&] {
    const ByteSpan span = ring.reserve_for(small, k_short);
    if (!span) return;
    std::memset(span.data, 0x33, span.size);
    ring.commit(span.size / 2);
  });
  attempt("commit_deferred and flush", [&] {
    const ByteSpan span = ring.reserve_until(small, deadline_after(k_short), ec);
    if (!span) return;
    ring.commit_deferred(span.size);
    ring.flush();
  });
  attempt("commit with nothing reserved", [&] { ring.commit(ec); });
  attempt("send_batch 1 ms", [&] {
    const ConstByteSpan batch[3] = {ConstByteSpan(payload.data(), 3),
                                    ConstByteSpan(payload.data(), small),
                                    ConstByteSpan(payload.data(), 0)};
    (void)ring.send_batch_for(batch, 3, k_short);
  });
  attempt("wait_for_peer 1 ms", [&] { (void)ring.wait_for_peer_for(k_short, ec); });
  volatile std::uint32_t generations = ring.generation() + ring.peer_generation();
  (void)generations;
}

inline void use(RingConsumer& ring, std::uint8_t /*mode*/) {
  if (!ring.is_open()) return;
  std::error_code ec;
  std::vector<unsigned char> buffer(ring.capacity());
  attempt("try_peek", [&] {
    const ConstByteSpan message = ring.try_peek();
    if (message) check_message(ring, message);
  });
  attempt("peek_for 1 ms and release", [&] {
    for (int i = 0; i < 4; ++i) {
      const ConstByteSpan message = ring.peek_until(deadline_after(k_short), ec);
      if (!message) break;
      check_message(ring, message);
    }
    ring.release();
  });
  attempt("receive_until into a small buffer", [&] {
    char small[4];
    (void)ring.try_receive(small, sizeof small, ec);
  });
  attempt("receive_for 1 ms", [&] {
    for (int i = 0; i < 8; ++i) {
      const auto size = ring.receive_for(buffer.data(), buffer.size(), k_short, ec);
      if (!size) break;
      if (*size > ring.max_message_size()) check_message(ring, ConstByteSpan(buffer.data(), *size));
    }
  });
  attempt("wait_for_peer 1 ms", [&] { (void)ring.wait_for_peer_for(k_short, ec); });
}

}  // namespace shmkit::fuzz
