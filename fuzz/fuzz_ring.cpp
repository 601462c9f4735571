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
  const RingRole creator_role = input.flag(6) ? RingRole::consumer : RingRole::producer;
  const RingRole other_role =
      creator_role == RingRole::producer ? RingRole::consumer : RingRole::producer;
  WaitOptions wait;
  if (input.flag(7)) wait.strategy = WaitStrategy::busy;
  const std::string name = next_name("r");
  const Options options = quick_options();
  std::error_code ec;

  Ring first;
  attempt("create", [&] { first = Ring::create(name, creator_role, capacity, wait, options, ec); });
  if (first.is_open()) {
    Ring second;
    attempt("open", [&] { second = Ring::open(name, other_role, wait, options, ec); });
    Ring& producer = creator_role == RingRole::producer ? first : second;
    Ring& consumer = creator_role == RingRole::consumer ? first : second;
    if (producer.is_open() && consumer.is_open()) {
      attempt("fill", [&] {
        std::vector<unsigned char> message(capacity / 4, 0x11);
        for (int i = 0; i < sent; ++i) producer.try_send(message.data(), 8 + 17 * i);
        if (input.flag(5)) consumer.try_peek();
      });
    }
    scribble(name, input, sync_state_offset());
    inspect(name, input);
    use(producer, input.mode());
    use(consumer, input.mode());
    attempt("open a taken role", [&] {
      Ring::open(name, RingRole::producer, wait, options, ec);
      Ring::open(name, RingRole::consumer, wait, options, ec);
    });
    // Close both ends and take the roles over, as a restarted process would.
    attempt("close", [&] {
      first = Ring();
      second = Ring();
    });
    Ring new_consumer;
    attempt("reopen consumer",
            [&] { new_consumer = Ring::open(name, RingRole::consumer, wait, options, ec); });
    use(new_consumer, input.mode());
    Ring new_producer;
    attempt("open_or_create producer", [&] {
      new_producer = Ring::open_or_create(name, RingRole::producer, capacity, wait, options, ec);
    });
    use(new_producer, input.mode());
    use(new_consumer, input.mode());
    attempt("close again", [&] {
      new_consumer = Ring();
      new_producer = Ring();
    });
  }
  remove_all(name);
  return 0;
}
