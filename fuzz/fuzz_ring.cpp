// Ring: the input overwrites a live ring's segment (control block, records,
// endpoint words), then both ends use it, close, and take their roles over.
#include "fuzz_support.hpp"
#include "ring_use.hpp"

using namespace shmkit;
using namespace shmkit::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Input input(data, size);
  // mode: bits 0-1 the capacity, bits 2-4 messages sent first, bit 5 leave
  // one peeked, bit 6 the creator is the consumer, bit 7 a busy-waiting consumer.
  const std::size_t capacity = std::size_t{256} << (input.mode() & 3);
  const int sent = (input.mode() >> 2) & 7;
  const bool consumer_creates = input.flag(6);
  WaitOptions wait;
  if (input.flag(7)) wait.strategy = WaitStrategy::busy;
  const std::string name = next_name("r");
  const RingOptions options = object_options<RingOptions>(quick_options(), wait);
  std::error_code ec;

  RingProducer producer;
  RingConsumer consumer;
  attempt("create", [&] {
    if (consumer_creates) {
      consumer = RingConsumer::create(name, capacity, options, ec);
    } else {
      producer = RingProducer::create(name, capacity, options, ec);
    }
  });
  if (producer.is_open() || consumer.is_open()) {
    attempt("open", [&] {
      if (consumer_creates) {
        producer = RingProducer::open(name, options, ec);
      } else {
        consumer = RingConsumer::open(name, options, ec);
      }
    });
    if (producer.is_open() && consumer.is_open()) {
      attempt("fill", [&] {
        std::vector<unsigned char> message(capacity / 4, 0x11);
        for (int i = 0; i < sent; ++i) (void)producer.try_send(message.data(), 8 + 17 * i);
        if (input.flag(5)) (void)consumer.try_peek();
      });
    }
    scribble(name, input, sync_state_offset());
    inspect(name, input);
    use(producer, input.mode());
    use(consumer, input.mode());
    attempt("open a taken role", [&] {
      (void)RingProducer::open(name, options, ec);
      (void)RingConsumer::open(name, options, ec);
    });
    // Close both ends and take the roles over, as a restarted process would.
    attempt("close", [&] {
      producer.close();
      consumer.close();
    });
    RingConsumer new_consumer;
    attempt("reopen consumer", [&] { new_consumer = RingConsumer::open(name, options, ec); });
    use(new_consumer, input.mode());
    RingProducer new_producer;
    attempt("open_or_create producer",
            [&] { new_producer = RingProducer::open_or_create(name, capacity, options, ec); });
    use(new_producer, input.mode());
    use(new_consumer, input.mode());
    attempt("close again", [&] {
      new_consumer = RingConsumer();
      new_producer = RingProducer();
    });
  }
  remove_all(name);
  return 0;
}
