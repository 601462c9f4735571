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

inline void check_message(const Ring& ring, ConstByteSpan message) {
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
}

inline void use_producer(Ring& ring, std::uint8_t mode) {
  if (!ring.is_open() || ring.role() != RingRole::producer) return;
  std::error_code ec;
  std::vector<unsigned char> payload(ring.max_message_size() + 1, 0x5a);
  const std::size_t small = 1 + mode % 40;
  attempt("try_send", [&] { ring.try_send(payload.data(), small); });
  attempt("send_for 1 ms",
          [&] { ring.send_for(payload.data(), ring.max_message_size() / 2, k_short); });
  attempt("send_until too large",
          [&] { ring.send_until(payload.data(), payload.size(), deadline_after(k_short), ec); });
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
  attempt("send_batch 1 ms", [&] {
    const ConstByteSpan batch[3] = {ConstByteSpan(payload.data(), 3),
                                    ConstByteSpan(payload.data(), small),
                                    ConstByteSpan(payload.data(), 0)};
    ring.send_batch(batch, 3, deadline_after(k_short));
  });
}

inline void use_consumer(Ring& ring) {
  if (!ring.is_open() || ring.role() != RingRole::consumer) return;
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
    ring.receive_until(small, sizeof small, Deadline(), ec);
  });
  attempt("receive_for 1 ms", [&] {
    for (int i = 0; i < 8; ++i) {
      const auto size =
          ring.receive_until(buffer.data(), buffer.size(), deadline_after(k_short), ec);
      if (!size) break;
      if (*size > ring.max_message_size()) check_message(ring, ConstByteSpan(buffer.data(), *size));
    }
  });
}

inline void use(Ring& ring, std::uint8_t mode) {
  use_producer(ring, mode);
  use_consumer(ring);
}

}  // namespace shmkit::fuzz
