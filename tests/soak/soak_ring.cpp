// Ring and Channel under kill -9.
//
// ring: a producer and a consumer process, either killed at any moment and
// restarted; the successor takes the dead one's role over.
// channel: the driver holds the creating end and talks both ways with a peer
// process that is killed and restarted (each restart takes the opening end
// over).
#include "soak.hpp"
#include "soak_stream.hpp"

#include <cstdlib>
#include <thread>

namespace shmkit::soak {
namespace {

constexpr std::size_t k_capacity = 4096;
constexpr auto k_wait = std::chrono::milliseconds(50);

struct StreamShared {
  std::atomic<std::uint64_t> next;       // producer: next sequence to send
  std::atomic<std::uint64_t> confirmed;  // producer: one past the last one known committed
  std::atomic<std::uint64_t> consumed;   // consumer: first sequence not checked
};

struct RingControl {
  Figures figures;
  StreamShared stream;
};

struct ChannelControl {
  Figures figures;
  StreamShared up;    // peer -> driver
  StreamShared down;  // driver -> peer
};

WaitOptions wait_for_incarnation(std::uint64_t incarnation) {
  WaitOptions wait;
  wait.strategy = incarnation % 2 == 0 ? WaitStrategy::adaptive : WaitStrategy::blocking;
  return wait;
}

// The producing side of a stream, restartable.
class StreamProducer {
 public:
  StreamProducer(StreamShared& shared, bool restarted) : shared_(shared) {
    if (restarted) {
      uncertain_ = shared.confirmed.load();
      shared.next.store(shared.next.load() + 1);
    }
    sequence_ = shared.next.load();
  }

  // One message with a deadline, zero-copy or copying by turns. False if it
  // did not go (deadline, peer gone); other errors are reported.
  bool send_one(RingProducer& ring, Figures& figures, const char* who) {
    const std::size_t size = message_size(sequence_, ring.max_message_size());
    std::error_code ec;
    const Deadline deadline = deadline_after(k_wait);
    bool sent = false;
    if (sequence_ % 2 == 0) {
      const ByteSpan span = bounded_wait(figures, deadline, "reserve_until",
                                         [&] { return ring.reserve_until(size, deadline, ec); });
      if (span) {
        fill_message(span.data, size, sequence_, uncertain_);
        ring.commit();
        sent = true;
      }
    } else {
      buffer_.resize(size);
      fill_message(buffer_.data(), size, sequence_, uncertain_);
      sent = bounded_wait(figures, deadline, "send_until",
                          [&] { return ring.send_until(buffer_.data(), size, deadline, ec); });
    }
    if (ec && ec != errc::peer_gone) report_error(figures, who, ec.message());
    if (!sent) return false;
    ++sequence_;
    shared_.confirmed.store(sequence_);
    shared_.next.store(sequence_);
    return true;
  }

 private:
  StreamShared& shared_;
  std::uint64_t sequence_ = 0;
  std::uint64_t uncertain_ = k_none;
  std::vector<unsigned char> buffer_;
};

// One message off the ring, checked, recorded, then released. False if none came.
bool receive_one(RingConsumer& ring, StreamChecker& checker, StreamShared& shared, Figures& figures,
                 const char* who, std::chrono::milliseconds wait = k_wait) {
  std::error_code ec;
  const Deadline deadline = deadline_after(wait);
  const ConstByteSpan message =
      bounded_wait(figures, deadline, "peek_until", [&] { return ring.peek_until(deadline, ec); });
  if (ec && ec != errc::peer_gone) report_error(figures, who, ec.message());
  if (!message) return false;
  checker.judge(message.data, message.size, figures, who);
  shared.consumed.store(checker.expected());
  ring.release();
  return true;
}

}  // namespace

// args: ring control incarnation
SHMKIT_SOAK_ROLE(ring_producer) {
  auto control = open_control(args.at(1));
  auto& c = *static_cast<RingControl*>(control.data());
  const std::uint64_t me = incarnation(args);
  RingOptions options;
  options.wait = wait_for_incarnation(me);
  RingProducer ring = open_with_retry(
      c.figures, c.figures.heartbeat[0], "ring producer",
      [&](auto& ec) { return RingProducer::open_or_create(args.at(0), k_capacity, options, ec); });
  StreamProducer producer(c.stream, me > 0);
  for (;;) {
    c.figures.heartbeat[0].fetch_add(1);
    producer.send_one(ring, c.figures, "ring producer");
  }
}

// args: ring control incarnation
SHMKIT_SOAK_ROLE(ring_consumer) {
  auto control = open_control(args.at(1));
  auto& c = *static_cast<RingControl*>(control.data());
  const std::uint64_t me = incarnation(args);
  RingOptions options;
  options.wait = wait_for_incarnation(me + 1);
  RingConsumer ring = open_with_retry(
      c.figures, c.figures.heartbeat[1], "ring consumer",
      [&](auto& ec) { return RingConsumer::open_or_create(args.at(0), k_capacity, options, ec); });
  StreamChecker checker(c.stream.consumed.load(), me > 0);
  for (;;) {
    c.figures.heartbeat[1].fetch_add(1);
    receive_one(ring, checker, c.stream, c.figures, "ring consumer");
  }
}

SHMKIT_SOAK_SCENARIO(ring, 1) {
  Result result;
  const std::string ring_name = prefix + "r";
  const std::string control_name = prefix + "ctl";
  auto control = create_control(control_name, sizeof(RingControl));
  auto& c = *static_cast<RingControl*>(control.data());
  Cast cast(c.figures, result);
  cast.add("ring_producer", [&] { return std::vector<std::string>{ring_name, control_name}; });
  cast.add("ring_consumer", [&] { return std::vector<std::string>{ring_name, control_name}; });
  cast.start_all();
  cast.run(budget, {std::getenv("SOAK_W0") ? std::atoi(std::getenv("SOAK_W0")) : 1,
                    std::getenv("SOAK_W1") ? std::atoi(std::getenv("SOAK_W1")) : 1});

  // The producer dies for good; the consumer must then read every message
  // the producer committed.
  cast.slot(0).process.kill_and_reap();
  const auto give_up = Clock::now() + std::chrono::seconds(20);
  while (missing_at_end(c.stream.consumed.load(), c.stream.confirmed.load()) != 0 &&
         Clock::now() < give_up) {
    cast.watch(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  cast.kill_all();
  collect(c.figures, result);
  result.lost += missing_at_end(c.stream.consumed.load(), c.stream.confirmed.load());
  result.left_behind = clean_and_list(prefix, control_name);
  control.close();
  NamedSharedMemory::remove(control_name);
  return result;
}

// args: channel control incarnation
SHMKIT_SOAK_ROLE(channel_peer) {
  auto control = open_control(args.at(1));
  auto& c = *static_cast<ChannelControl*>(control.data());
  const std::uint64_t me = incarnation(args);
  ChannelOptions options;
  options.wait = wait_for_incarnation(me);
  Channel channel =
      open_with_retry(c.figures, c.figures.heartbeat[0], "channel peer",
                      [&](auto& ec) { return Channel::open(args.at(0), options, ec); });
  StreamProducer up(c.up, me > 0);
  StreamChecker down(c.down.consumed.load(), me > 0);
  for (;;) {
    c.figures.heartbeat[0].fetch_add(1);
    up.send_one(channel.outbound(), c.figures, "channel peer");
    receive_one(channel.inbound(), down, c.down, c.figures, "channel peer");
  }
}

SHMKIT_SOAK_SCENARIO(channel, 1) {
  Result result;
  const std::string channel_name = prefix + "h";
  const std::string control_name = prefix + "ctl";
  auto control = create_control(control_name, sizeof(ChannelControl));
  auto& c = *static_cast<ChannelControl*>(control.data());
  Channel channel = Channel::create(channel_name, k_capacity);

  // The driver's end runs in a thread of its own while the main thread kills.
  std::atomic<bool> sending{true};
  std::atomic<bool> running{true};
  StreamChecker up(0, false);
  std::thread driver_end([&] {
    StreamProducer down(c.down, false);
    while (running.load()) {
      receive_one(channel.inbound(), up, c.up, c.figures, "channel driver",
                  std::chrono::milliseconds(5));
      if (sending.load()) down.send_one(channel.outbound(), c.figures, "channel driver");
    }
  });

  Cast cast(c.figures, result);
  cast.add("channel_peer", [&] { return std::vector<std::string>{channel_name, control_name}; });
  cast.start_all();
  cast.run(budget, {1});

  // Stop sending; the last peer must read everything the driver committed.
  sending.store(false);
  const auto give_up = Clock::now() + std::chrono::seconds(20);
  while (c.down.consumed.load() < c.down.next.load() && Clock::now() < give_up) {
    cast.watch(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const std::uint64_t down_missing =
      c.down.next.load() - std::min(c.down.next.load(), c.down.consumed.load());
  // Then the peer dies; the driver must read everything it committed.
  cast.kill_all();
  const auto drain_end = Clock::now() + std::chrono::seconds(20);
  while (missing_at_end(c.up.consumed.load(), c.up.confirmed.load()) != 0 &&
         Clock::now() < drain_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  running.store(false);
  driver_end.join();
  collect(c.figures, result);
  result.lost += down_missing + missing_at_end(c.up.consumed.load(), c.up.confirmed.load());
  channel = Channel();
  result.left_behind = clean_and_list(prefix, control_name);
  control.close();
  NamedSharedMemory::remove(control_name);
  return result;
}

}  // namespace shmkit::soak
