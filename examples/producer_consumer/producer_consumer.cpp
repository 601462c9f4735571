// A Ring between two processes, zero-copy on both sides, and a producer that
// crashes and is restarted (the restart recipe in docs/messaging.md):
//   producer_consumer remove NAME               removes the ring
//   producer_consumer consume NAME COUNT        peeks COUNT messages, printing
//                                               each with its generation
//   producer_consumer produce NAME COUNT [crash]  reserves/commits COUNT
//                                               messages; with "crash" it
//                                               dies without closing after
//                                               them, as a killed process would
// Start the consumer, then producers one after the other: each producer is
// a new generation, and the consumer tells a dead producer's leftovers from
// the new producer's messages by the generation each message carries.
#include <shmkit/shmkit.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr std::size_t k_capacity = 4096;

int produce(const std::string& name, long count, bool crash) {
  auto ring = shmkit::RingProducer::open_or_create(name, k_capacity);
  std::printf("producer: generation %u attached\n", static_cast<unsigned>(ring.generation()));
  for (long i = 0; i < count; ++i) {
    // Zero-copy: the message is written straight into the ring.
    char text[64];
    const int length = std::snprintf(text, sizeof text, "message %ld of generation %u", i,
                                     static_cast<unsigned>(ring.generation()));
    const shmkit::ByteSpan span = ring.reserve(static_cast<std::size_t>(length));
    std::memcpy(span.data, text, span.size);
    ring.commit();
  }
  if (crash) {
    std::printf("producer: generation %u crashes without closing\n",
                static_cast<unsigned>(ring.generation()));
    std::fflush(stdout);
    std::_Exit(1);  // no destructors: the ring still names this process
  }
  std::printf("producer: generation %u done\n", static_cast<unsigned>(ring.generation()));
  return 0;
}

int consume(const std::string& name, long count) {
  auto ring = shmkit::RingConsumer::open_or_create(name, k_capacity);
  for (long received = 0; received < count;) {
    std::error_code ec;
    const shmkit::ConstByteSpan message = ring.peek_for(std::chrono::seconds(10), ec);
    if (ec == shmkit::errc::peer_gone) {
      // Its producer left after we had everything it sent: wait for the next.
      std::printf("consumer: the producer is gone; waiting for the next one\n");
      if (!ring.wait_for_peer_for(std::chrono::seconds(10))) break;
      continue;
    }
    if (ec) throw shmkit::Error(ec, shmkit::error_message(ec));
    if (!message) break;  // nothing for 10 s
    // A message from an older generation than the latest producer's, or
    // from a producer no longer attached, was left by a producer that is gone.
    const bool leftover =
        ring.message_generation() != ring.peer_generation() || !ring.try_wait_for_peer();
    std::printf("consumer: [generation %u%s] %.*s\n",
                static_cast<unsigned>(ring.message_generation()),
                leftover ? ", its producer is gone" : "", static_cast<int>(message.size),
                reinterpret_cast<const char*>(message.data));
    ring.release();
    ++received;
  }
  std::printf("consumer: done\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "remove") {
    return shmkit::RingProducer::remove(argv[2]) ? 0 : 1;
  }
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: producer_consumer consume|produce NAME COUNT [crash]\n"
                 "       producer_consumer remove NAME\n");
    return 2;
  }
  const std::string role = argv[1];
  const long count = std::stol(argv[3]);
  try {
    if (role == "produce") return produce(argv[2], count, argc > 4);
    if (role == "consume") return consume(argv[2], count);
  } catch (const shmkit::Error& e) {
    std::fprintf(stderr, "producer_consumer: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "producer_consumer: unknown role '%s'\n", role.c_str());
  return 2;
}
