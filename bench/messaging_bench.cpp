// Messaging transports against their baselines, all in one run (issue 5):
// - round trip of a 64-byte message between two processes (the parent pings,
//   a forked child echoes): Ring (busy, adaptive), Queue<T>, Channel, against
//   a raw atomic ping-pong (the floor), a raw ring with Ring's record layout,
//   a raw futex ping-pong, pipes, an AF_UNIX socketpair and
//   Boost.Interprocess message_queue. Every round trip is timed, so p50 and
//   p99 come out as counters beside the mean;
// - zero-copy round trip of Ring by size, 64 B to 16 MiB (first and last
//   cache line written and read on each side): the cost should not grow with
//   the size;
// - one-way throughput from 64 B to 1 MiB: Ring copying and zero-copy against
//   a raw shared-memory SPSC ring (also with Ring's sleeper check added, to
//   price that check alone) and a plain memcpy;
// - the cost per call in one thread (send then receive on one ring, no
//   cross-core traffic): a raw ring, the raw ring with Ring's two fences,
//   Ring copying and zero-copy, Queue<T> and Channel; copy against zero-copy
//   also at 4 KiB and 64 KiB.
//
// Every row runs the same number of repetitions in random order with the
// others (the defaults below), so that each row's ratio to the floor
// (rtt/raw_atomic) compares numbers taken over the same stretch of time.
//
// The parent and the child are pinned to different CPUs when there are two,
// so that a "round trip" is a cross-core handoff and not a context switch.
// Defaults (repetitions, min time, interleaving) are prepended to the command
// line so that a bare run is the whole suite; flags given explicitly win.
#include "bench_process.hpp"

#include <shmkit/shmkit.hpp>

#include <benchmark/benchmark.h>

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#ifdef SHMKIT_BENCH_HAVE_ICEORYX
#include "iceoryx_peer.hpp"
#endif

#if __has_include(<boost/interprocess/ipc/message_queue.hpp>)
#include <boost/interprocess/ipc/message_queue.hpp>
#define SHMKIT_BENCH_HAVE_BOOST 1
#endif

namespace {

using namespace shmkit::bench;

using Clock = std::chrono::steady_clock;

constexpr std::size_t k_message_size = 64;
// Big enough for a 1 MiB message plus its header, with room for a few more
// in flight.
constexpr std::size_t k_stream_capacity = std::size_t{4} << 20;
constexpr std::size_t k_stream_sizes[] = {64, 4096, 65536, std::size_t{1} << 20};

struct Message {
  std::uint64_t sequence;
  std::uint8_t payload[k_message_size - sizeof(std::uint64_t)];
};
static_assert(sizeof(Message) == k_message_size);

// A sequence number no round trip uses: it ends the child's echo loop.
constexpr std::uint64_t k_stop = ~std::uint64_t{0};

std::string bench_name(const char* what) {
  char text[29];  // rings and queues take at most 28 characters
  std::snprintf(text, sizeof text, "bmsg-%s-%d", what, static_cast<int>(::getpid()));
  return text;
}

void wait_acks(const Control& control, std::uint32_t count) {
  while (control.acks.load(std::memory_order_acquire) < count) relax();
}

void read_full(int fd, void* data, std::size_t size) {
  auto* at = static_cast<char*>(data);
  while (size != 0) {
    const ssize_t n = ::read(fd, at, size);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      throw std::runtime_error("read failed or the peer closed");
    }
    at += n;
    size -= static_cast<std::size_t>(n);
  }
}

void write_full(int fd, const void* data, std::size_t size) {
  const auto* at = static_cast<const char*>(data);
  while (size != 0) {
    const ssize_t n = ::write(fd, at, size);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      throw std::runtime_error("write failed");
    }
    at += n;
    size -= static_cast<std::size_t>(n);
  }
}

shmkit::RingOptions ring_options_with(shmkit::WaitStrategy strategy) {
  shmkit::RingOptions options;
  options.wait = wait_with(strategy);
  return options;
}

// ---- round trip ---------------------------------------------------------------
// A transport is built in the parent before the fork. The child calls
// echo(), which opens its ends, raises control.ready and echoes until it
// receives k_stop; the parent calls exchange() (send, then receive the echo
// into the same message) and finally stop().

struct AtomicPingPong {
  struct Words {
    alignas(64) std::atomic<std::uint64_t> ping{0};
    alignas(64) std::atomic<std::uint64_t> pong{0};
  };
  Shared<Words> words;

  void echo(Control& control) {
    control.ready.store(1, std::memory_order_release);
    for (std::uint64_t seen = 0;;) {
      std::uint64_t value;
      while ((value = words->ping.load(std::memory_order_acquire)) == seen) relax();
      if (value == k_stop) return;
      seen = value;
      words->pong.store(value, std::memory_order_release);
    }
  }
  void exchange(Message& message) {
    words->ping.store(message.sequence, std::memory_order_release);
    while (words->pong.load(std::memory_order_acquire) != message.sequence) relax();
  }
  void stop() { words->ping.store(k_stop, std::memory_order_release); }
};

// Sleeps on every message: what a round trip costs when each side has to be
// woken by the kernel.
struct FutexPingPong {
  struct Words {
    alignas(64) std::atomic<std::uint32_t> ping{0};
    alignas(64) std::atomic<std::uint32_t> pong{0};
    std::atomic<std::uint32_t> stop{0};
  };
  Shared<Words> words;

  void echo(Control& control) {
    control.ready.store(1, std::memory_order_release);
    for (std::uint32_t seen = 0;;) {
      std::uint32_t value;
      while ((value = words->ping.load(std::memory_order_acquire)) == seen) {
        futex(&words->ping, FUTEX_WAIT, seen);
      }
      if (words->stop.load(std::memory_order_acquire) != 0) return;
      seen = value;
      words->pong.store(value, std::memory_order_release);
      futex(&words->pong, FUTEX_WAKE, 1);
    }
  }
  void exchange(Message& message) {
    const auto value = static_cast<std::uint32_t>(message.sequence);
    words->ping.store(value, std::memory_order_release);
    futex(&words->ping, FUTEX_WAKE, 1);
    for (std::uint32_t seen; (seen = words->pong.load(std::memory_order_acquire)) != value;) {
      futex(&words->pong, FUTEX_WAIT, seen);
    }
  }
  void stop() {
    words->stop.store(1, std::memory_order_release);
    words->ping.fetch_add(1, std::memory_order_release);
    futex(&words->ping, FUTEX_WAKE, 1);
  }
};

// Two file descriptors per end: pipes (one per direction) or a socketpair
// (the same descriptor both ways).
class DescriptorPingPong {
 public:
  void echo(Control& control) {
    control.ready.store(1, std::memory_order_release);
    for (Message message{};;) {
      read_full(child_in_, &message, sizeof message);
      if (message.sequence == k_stop) return;
      write_full(child_out_, &message, sizeof message);
    }
  }
  void exchange(Message& message) {
    write_full(parent_out_, &message, sizeof message);
    read_full(parent_in_, &message, sizeof message);
  }
  void stop() {
    Message message{};
    message.sequence = k_stop;
    write_full(parent_out_, &message, sizeof message);
  }

 protected:
  DescriptorPingPong() = default;
  ~DescriptorPingPong() = default;
  int parent_out_ = -1, parent_in_ = -1, child_in_ = -1, child_out_ = -1;
};

class PipePingPong : public DescriptorPingPong {
 public:
  PipePingPong() {
    if (::pipe(to_child_) != 0 || ::pipe(to_parent_) != 0) {
      throw std::system_error(errno, std::system_category(), "pipe");
    }
    parent_out_ = to_child_[1];
    child_in_ = to_child_[0];
    child_out_ = to_parent_[1];
    parent_in_ = to_parent_[0];
  }
  PipePingPong(const PipePingPong&) = delete;
  PipePingPong& operator=(const PipePingPong&) = delete;
  ~PipePingPong() {
    for (int fd : {to_child_[0], to_child_[1], to_parent_[0], to_parent_[1]}) {
      if (fd >= 0) ::close(fd);
    }
  }

 private:
  int to_child_[2] = {-1, -1};
  int to_parent_[2] = {-1, -1};
};

class UnixPingPong : public DescriptorPingPong {
 public:
  UnixPingPong() {
    // SEQPACKET keeps message boundaries, as every other transport here does.
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ends_) != 0) {
      throw std::system_error(errno, std::system_category(), "socketpair");
    }
    parent_out_ = parent_in_ = ends_[0];
    child_in_ = child_out_ = ends_[1];
  }
  UnixPingPong(const UnixPingPong&) = delete;
  UnixPingPong& operator=(const UnixPingPong&) = delete;
  ~UnixPingPong() {
    ::close(ends_[0]);
    ::close(ends_[1]);
  }

 private:
  int ends_[2] = {-1, -1};
};

template <shmkit::WaitStrategy Strategy>
struct RingPingPong {
  const std::string ping_name = bench_name(Strategy == shmkit::WaitStrategy::busy ? "rbp" : "rap");
  const std::string pong_name = bench_name(Strategy == shmkit::WaitStrategy::busy ? "rbq" : "raq");
  const shmkit::RingOptions options = ring_options_with(Strategy);
  shmkit::RingProducer ping;
  shmkit::RingConsumer pong;

  RingPingPong() {
    ping = shmkit::RingProducer::create(ping_name, shmkit::k_default_ring_capacity, options);
    pong = shmkit::RingConsumer::create(pong_name, shmkit::k_default_ring_capacity, options);
  }
  RingPingPong(const RingPingPong&) = delete;
  RingPingPong& operator=(const RingPingPong&) = delete;
  ~RingPingPong() {
    ping = shmkit::RingProducer();
    pong = shmkit::RingConsumer();
    std::error_code ignored;
    shmkit::RingProducer::remove(ping_name, {}, ignored);
    shmkit::RingProducer::remove(pong_name, {}, ignored);
  }

  void echo(Control& control) {
    auto in = shmkit::RingConsumer::open(ping_name, options);
    auto out = shmkit::RingProducer::open(pong_name, options);
    control.ready.store(1, std::memory_order_release);
    for (Message message{};;) {
      in.receive(&message, sizeof message);
      if (message.sequence == k_stop) return;
      out.send(&message, sizeof message);
    }
  }
  void exchange(Message& message) {
    ping.send(&message, sizeof message);
    pong.receive(&message, sizeof message);
  }
  void stop() {
    Message message{};
    message.sequence = k_stop;
    ping.send(&message, sizeof message);
  }
};

struct QueuePingPong {
  const std::string ping_name = bench_name("qp");
  const std::string pong_name = bench_name("qq");
  shmkit::QueueOptions options;
  shmkit::Queue<Message> ping;
  shmkit::Queue<Message> pong;

  QueuePingPong() {
    options.wait = wait_with(shmkit::WaitStrategy::busy);
    ping = shmkit::Queue<Message>::create(ping_name, 64, options);
    pong = shmkit::Queue<Message>::create(pong_name, 64, options);
  }
  QueuePingPong(const QueuePingPong&) = delete;
  QueuePingPong& operator=(const QueuePingPong&) = delete;
  ~QueuePingPong() {
    ping = shmkit::Queue<Message>();
    pong = shmkit::Queue<Message>();
    std::error_code ignored;
    shmkit::Queue<Message>::remove(ping_name, {}, ignored);
    shmkit::Queue<Message>::remove(pong_name, {}, ignored);
  }

  void echo(Control& control) {
    auto in = shmkit::Queue<Message>::open(ping_name, options);
    auto out = shmkit::Queue<Message>::open(pong_name, options);
    control.ready.store(1, std::memory_order_release);
    for (;;) {
      const Message message = in.pop();
      if (message.sequence == k_stop) return;
      out.push(message);
    }
  }
  void exchange(Message& message) {
    ping.push(message);
    message = pong.pop();
  }
  void stop() {
    Message message{};
    message.sequence = k_stop;
    ping.push(message);
  }
};

struct ChannelPingPong {
  const std::string name = bench_name("ch");
  shmkit::ChannelOptions options;
  shmkit::Channel channel;

  ChannelPingPong() {
    options.wait = wait_with(shmkit::WaitStrategy::busy);
    channel = shmkit::Channel::create(name, shmkit::k_default_ring_capacity, options);
  }
  ChannelPingPong(const ChannelPingPong&) = delete;
  ChannelPingPong& operator=(const ChannelPingPong&) = delete;
  ~ChannelPingPong() {
    channel = shmkit::Channel();
    std::error_code ignored;
    shmkit::Channel::remove(name, {}, ignored);
  }

  void echo(Control& control) {
    auto end = shmkit::Channel::open(name, options);
    control.ready.store(1, std::memory_order_release);
    for (Message message{};;) {
      end.receive(&message, sizeof message);
      if (message.sequence == k_stop) return;
      end.send(&message, sizeof message);
    }
  }
  void exchange(Message& message) {
    channel.send(&message, sizeof message);
    channel.receive(&message, sizeof message);
  }
  void stop() {
    Message message{};
    message.sequence = k_stop;
    channel.send(&message, sizeof message);
  }
};

// Zero-copy round trip of `size` bytes: each side reserves a message of the
// full size, writes the cache line that holds its first byte (from that byte
// on: the sequence number, then a pattern) and the one that holds its last
// (up to that byte), and commits; the other side peeks, reads the same bytes
// in place and releases. Nothing else is touched, so a flat cost by size is
// what zero-copy promises; at 64 B the two lines are the whole message. Each
// ring holds at least two messages of the size (64 KiB at least, as the
// 64-byte round trips; 64 MiB for 16 MiB).
class RingZeroCopyPingPong {
 public:
  explicit RingZeroCopyPingPong(std::size_t size)
      : size_(std::max(size, sizeof(std::uint64_t))),
        capacity_(std::max(shmkit::k_default_ring_capacity, ring_capacity_for(size_))) {
    ping_ = shmkit::RingProducer::create(ping_name_, capacity_, options_);
    pong_ = shmkit::RingConsumer::create(pong_name_, capacity_, options_);
  }
  RingZeroCopyPingPong(const RingZeroCopyPingPong&) = delete;
  RingZeroCopyPingPong& operator=(const RingZeroCopyPingPong&) = delete;
  ~RingZeroCopyPingPong() {
    ping_ = shmkit::RingProducer();
    pong_ = shmkit::RingConsumer();
    std::error_code ignored;
    shmkit::RingProducer::remove(ping_name_, {}, ignored);
    shmkit::RingProducer::remove(pong_name_, {}, ignored);
  }

  void echo(Control& control) {
    auto in = shmkit::RingConsumer::open(ping_name_, options_);
    auto out = shmkit::RingProducer::open(pong_name_, options_);
    control.ready.store(1, std::memory_order_release);
    for (Message message{};;) {
      take(in, message);
      if (message.sequence == k_stop) return;
      put(out, message);
    }
  }
  void exchange(Message& message) {
    put(ping_, message);
    take(pong_, message);
  }
  void stop() {
    Message message{};
    message.sequence = k_stop;
    put(ping_, message);
  }

 private:
  static std::size_t ring_capacity_for(std::size_t size) {
    std::size_t capacity = 1;
    while (capacity < 2 * (size + 64)) capacity <<= 1;
    return capacity;
  }
  // The message's bytes in the cache line of its first byte: [0, first_end),
  // and in the line of its last byte: [last_begin, size). Mappings are page
  // aligned, so both sides find the same lines.
  struct Ends {
    std::size_t first_end;
    std::size_t last_begin;
  };
  static Ends ends(const std::byte* data, std::size_t size) {
    const auto at = reinterpret_cast<std::uintptr_t>(data);
    const std::size_t first_end =
        std::min(size, std::max<std::size_t>(sizeof(std::uint64_t), k_line - at % k_line));
    const std::size_t last_line = (at + size - 1) / k_line * k_line - at;
    return {first_end, std::max(first_end, last_line)};
  }
  void put(shmkit::RingProducer& ring, const Message& message) const {
    const shmkit::ByteSpan span = ring.reserve(size_);
    const Ends e = ends(span.data, size_);
    std::memcpy(span.data, &message.sequence, sizeof message.sequence);
    std::memset(span.data + sizeof message.sequence, 0x5a, e.first_end - sizeof message.sequence);
    std::memset(span.data + e.last_begin, 0x5a, size_ - e.last_begin);
    ring.commit();
  }
  void take(shmkit::RingConsumer& ring, Message& message) const {
    const shmkit::ConstByteSpan span = ring.peek();
    if (span.size != size_) throw std::runtime_error("a message of the wrong size arrived");
    const Ends e = ends(span.data, size_);
    std::array<std::byte, 2 * k_line> seen;
    std::memcpy(seen.data(), span.data, e.first_end);
    std::memcpy(seen.data() + k_line, span.data + e.last_begin, size_ - e.last_begin);
    benchmark::DoNotOptimize(seen);
    std::memcpy(&message.sequence, seen.data(), sizeof message.sequence);
    ring.release();
  }

  static constexpr std::size_t k_line = 64;
  const std::string ping_name_ = bench_name("zp");
  const std::string pong_name_ = bench_name("zq");
  const shmkit::RingOptions options_ = ring_options_with(shmkit::WaitStrategy::busy);
  std::size_t size_;
  std::size_t capacity_;
  shmkit::RingProducer ping_;
  shmkit::RingConsumer pong_;
};

#ifdef SHMKIT_BENCH_HAVE_BOOST
struct BoostQueuePingPong {
  using Queue = boost::interprocess::message_queue;
  const std::string ping_name = bench_name("bp");
  const std::string pong_name = bench_name("bq");
  std::optional<Queue> ping;
  std::optional<Queue> pong;

  BoostQueuePingPong() {
    Queue::remove(ping_name.c_str());
    Queue::remove(pong_name.c_str());
    ping.emplace(boost::interprocess::create_only, ping_name.c_str(), 16, k_message_size);
    pong.emplace(boost::interprocess::create_only, pong_name.c_str(), 16, k_message_size);
  }
  BoostQueuePingPong(const BoostQueuePingPong&) = delete;
  BoostQueuePingPong& operator=(const BoostQueuePingPong&) = delete;
  ~BoostQueuePingPong() {
    ping.reset();
    pong.reset();
    Queue::remove(ping_name.c_str());
    Queue::remove(pong_name.c_str());
  }

  void echo(Control& control) {
    Queue in(boost::interprocess::open_only, ping_name.c_str());
    Queue out(boost::interprocess::open_only, pong_name.c_str());
    control.ready.store(1, std::memory_order_release);
    for (Message message{};;) {
      receive(in, message);
      if (message.sequence == k_stop) return;
      out.send(&message, sizeof message, 0);
    }
  }
  void exchange(Message& message) {
    ping->send(&message, sizeof message, 0);
    receive(*pong, message);
  }
  void stop() {
    Message message{};
    message.sequence = k_stop;
    ping->send(&message, sizeof message, 0);
  }
  static void receive(Queue& queue, Message& message) {
    Queue::size_type received = 0;
    unsigned int priority = 0;
    queue.receive(&message, sizeof message, received, priority);
  }
};
#endif

// Times round trips over `transport`, whose peer is ready, until `state`
// ends; then stops the peer and calls `join()`.
template <typename Transport, typename Join>
void time_round_trips(benchmark::State& state, Transport& transport, Join join) {
  // Written before the clock starts: faulting its pages in while timing
  // would add to the samples.
  std::vector<std::int64_t> samples(static_cast<std::size_t>(state.max_iterations));
  std::size_t taken = 0;
  bool echoed = true;
  try {
    Message message{};
    std::uint64_t sequence = 0;
    // The first round trips fault in pages and wake the child's loop.
    for (int i = 0; i < 1000; ++i) {
      message.sequence = ++sequence;
      transport.exchange(message);
    }
    // One clock read per round trip: each sample ends where the next begins.
    auto last = Clock::now();
    for (auto _ : state) {
      message.sequence = ++sequence;
      transport.exchange(message);
      const auto now = Clock::now();
      samples[taken++] = std::chrono::duration_cast<std::chrono::nanoseconds>(now - last).count();
      last = now;
      echoed &= message.sequence == sequence;
    }
    transport.stop();
    join();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  report_round_trips(state, samples, taken, echoed);
}

// `args` build the transport (in the parent, before the fork).
template <typename Transport, typename... Args>
void round_trip_bench(benchmark::State& state, Args... args) {
  PeerRun<Transport> run;
  if (!run.start(
          state,
          [&](Transport& child_transport, Control& child_control) {
            child_transport.echo(child_control);
          },
          args...))
    return;
  time_round_trips(state, *run.transport, [&] { run.peers.join(); });
}

#ifdef SHMKIT_BENCH_HAVE_ICEORYX
// iceoryx's peer is not a forked child but this program executed again (see
// iceoryx_peer.hpp); the parent is pinned as for every other round trip.
template <bool ZeroCopy>
void iceoryx_round_trip_bench(benchmark::State& state) {
  struct Transport {
    Transport(bool zero_copy, const Pinning& pinning) : pair(zero_copy, pinning) {}
    IceoryxPingPong pair;
    void exchange(Message& message) { pair.exchange(&message); }
    void stop() { pair.stop(); }
  };
  const Pinning pinning;
  std::optional<Transport> transport;
  try {
    transport.emplace(ZeroCopy, pinning);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  time_round_trips(state, *transport, [] {});
}
#endif

// ---- one-way throughput -----------------------------------------------------------
// A stream is built in the parent; send() runs in the parent (producer) and
// consume() in the child. A message of size 0 is a marker: the child counts
// it in control.acks, and leaves after the second.

template <shmkit::WaitStrategy Strategy, bool ZeroCopy>
struct RingStream {
  const std::string name = bench_name(ZeroCopy ? "sz" : "sc");
  const shmkit::RingOptions options = ring_options_with(Strategy);
  shmkit::RingProducer ring;

  RingStream() { ring = shmkit::RingProducer::create(name, k_stream_capacity, options); }
  RingStream(const RingStream&) = delete;
  RingStream& operator=(const RingStream&) = delete;
  ~RingStream() {
    ring = shmkit::RingProducer();
    std::error_code ignored;
    shmkit::RingProducer::remove(name, {}, ignored);
  }

  void send(const std::byte* data, std::size_t size) {
    if constexpr (ZeroCopy) {
      // The producer builds the message in place: one byte stands for that.
      const shmkit::ByteSpan span = ring.reserve(size);
      if (size != 0) span.data[0] = data[0];
      ring.commit();
    } else {
      ring.send(data, size);
    }
  }

  void consume(Control& control, std::byte* buffer, std::size_t capacity) {
    auto in = shmkit::RingConsumer::open(name, options);
    control.ready.store(1, std::memory_order_release);
    for (;;) {
      std::size_t size;
      if constexpr (ZeroCopy) {
        const shmkit::ConstByteSpan span = in.peek();
        size = span.size;
        if (size != 0) benchmark::DoNotOptimize(span.data[0]);
        in.release();
      } else {
        size = in.receive(buffer, capacity);
        benchmark::DoNotOptimize(buffer);
      }
      if (size == 0 && control.acks.fetch_add(1, std::memory_order_acq_rel) + 1 == 2) return;
    }
  }
};

// The baseline: Ring's record layout and copies (8-byte length header,
// records padded to 8 bytes, a padding record instead of wrapping a message,
// cached copies of the other side's index) without validation, role
// ownership or wake-ups; both sides only spin.
//
// With CheckSleepers, every index store is followed by what Ring's wake-up
// check costs when nobody sleeps (a seq_cst fence and a load of a sleeper
// count): the difference to the plain ring is that check's price alone.
template <std::size_t Capacity, bool CheckSleepers>
class RawRing {
  static_assert((Capacity & (Capacity - 1)) == 0, "a power of two, as in Ring");

 public:
  RawRing() : mapping_(sizeof(Indices) + Capacity) {
    indices_ = new (mapping_.data()) Indices();
    data_ = static_cast<std::byte*>(mapping_.data()) + sizeof(Indices);
  }
  RawRing(const RawRing&) = delete;
  RawRing& operator=(const RawRing&) = delete;
  ~RawRing() { indices_->~Indices(); }

  void send(const void* data, std::size_t size) {
    const std::uint64_t need = align8(k_header + size);
    for (;;) {
      const std::uint64_t offset = head_ & k_mask;
      const std::uint64_t contiguous = Capacity - offset;
      const std::uint64_t wanted = need <= contiguous ? need : contiguous;
      if (Capacity - (head_ - cached_tail_) < wanted) {
        while (Capacity -
                   (head_ - (cached_tail_ = indices_->tail.load(std::memory_order_acquire))) <
               wanted) {
          relax();
        }
      }
      if (need > contiguous) {
        std::memcpy(data_ + offset, &k_padding, sizeof k_padding);
        publish(indices_->head, head_ += contiguous, indices_->consumer_sleepers);
        continue;
      }
      const auto length = static_cast<std::uint32_t>(size);
      std::memcpy(data_ + offset, &length, sizeof length);
      if (size != 0) std::memcpy(data_ + offset + k_header, data, size);
      publish(indices_->head, head_ += need, indices_->consumer_sleepers);
      return;
    }
  }

  std::size_t receive(void* buffer) {
    for (;;) {
      if (tail_ == cached_head_) {
        while ((cached_head_ = indices_->head.load(std::memory_order_acquire)) == tail_) relax();
      }
      const std::uint64_t offset = tail_ & k_mask;
      std::uint32_t length;
      std::memcpy(&length, data_ + offset, sizeof length);
      if (length == k_padding) {
        publish(indices_->tail, tail_ += Capacity - offset, indices_->producer_sleepers);
        continue;
      }
      if (length != 0) std::memcpy(buffer, data_ + offset + k_header, length);
      publish(indices_->tail, tail_ += align8(k_header + length), indices_->producer_sleepers);
      return length;
    }
  }

  void consume(Control& control, std::byte* buffer, std::size_t) {
    control.ready.store(1, std::memory_order_release);
    for (;;) {
      const std::size_t size = receive(buffer);
      benchmark::DoNotOptimize(buffer);
      if (size == 0 && control.acks.fetch_add(1, std::memory_order_acq_rel) + 1 == 2) return;
    }
  }

 private:
  struct Indices {
    alignas(64) std::atomic<std::uint64_t> head{0};
    alignas(64) std::atomic<std::uint64_t> tail{0};
    alignas(64) std::atomic<std::uint32_t> consumer_sleepers{0};
    alignas(64) std::atomic<std::uint32_t> producer_sleepers{0};
  };
  static constexpr std::uint64_t k_header = 8;
  static constexpr std::uint64_t k_mask = Capacity - 1;
  static constexpr std::uint32_t k_padding = ~std::uint32_t{0};
  static constexpr std::uint64_t align8(std::uint64_t n) noexcept { return (n + 7) & ~7ull; }

  static void publish(std::atomic<std::uint64_t>& index, std::uint64_t value,
                      std::atomic<std::uint32_t>& sleepers) {
    index.store(value, std::memory_order_release);
    if constexpr (CheckSleepers) {
      std::atomic_thread_fence(std::memory_order_seq_cst);
      // Nobody ever sleeps here; the load only has to happen.
      benchmark::DoNotOptimize(sleepers.load(std::memory_order_relaxed));
    }
  }

  SharedMapping mapping_;
  Indices* indices_;
  std::byte* data_;
  // Private to each side (after the fork, each process has its own copy).
  std::uint64_t head_ = 0;
  std::uint64_t cached_tail_ = 0;
  std::uint64_t tail_ = 0;
  std::uint64_t cached_head_ = 0;
};

using RawStream = RawRing<k_stream_capacity, false>;
using RawStreamChecked = RawRing<k_stream_capacity, true>;

// Ring's record layout without the library, as a round trip: what moving 64
// bytes through an index-and-data ring costs at least, next to the floor
// that moves a bare counter.
struct RawRingPingPong {
  RawRing<shmkit::k_default_ring_capacity, false> ping;
  RawRing<shmkit::k_default_ring_capacity, false> pong;

  void echo(Control& control) {
    control.ready.store(1, std::memory_order_release);
    for (Message message{};;) {
      ping.receive(&message);
      if (message.sequence == k_stop) return;
      pong.send(&message, sizeof message);
    }
  }
  void exchange(Message& message) {
    ping.send(&message, sizeof message);
    pong.receive(&message);
  }
  void stop() {
    Message message{};
    message.sequence = k_stop;
    ping.send(&message, sizeof message);
  }
};

// The raw ring in one thread: the same send and receive as the stream, with
// or without Ring's sleeper check after every index store.
template <std::size_t Capacity, bool CheckSleepers>
struct RawSingle {
  RawRing<Capacity, CheckSleepers> ring;

  explicit RawSingle(std::size_t) {}
  void round(const std::byte* source, std::byte* sink, std::size_t size) {
    ring.send(source, size);
    benchmark::DoNotOptimize(ring.receive(sink));
  }
};

template <typename Stream>
void throughput_bench(benchmark::State& state, std::size_t size) {
  std::vector<std::byte> source(size, std::byte{0x5a});
  std::vector<std::byte> sink(size);
  PeerRun<Stream> run;
  if (!run.start(state, [&](Stream& child_stream, Control& child_control) {
        child_stream.consume(child_control, sink.data(), sink.size());
      }))
    return;
  auto& control = run.control;
  auto& stream = run.transport;
  try {
    // Two passes over the whole ring first, so that page faults and the
    // child's start are not timed.
    const std::size_t warm = std::max<std::size_t>(16, 2 * k_stream_capacity / size);
    for (std::size_t i = 0; i < warm; ++i) stream->send(source.data(), size);
    stream->send(nullptr, 0);
    wait_acks(*control, 1);

    // Manual time, so that the clock stops when the child has taken the
    // last message, not when the last one fit into the ring.
    const auto start = Clock::now();
    for (auto _ : state) stream->send(source.data(), size);
    stream->send(nullptr, 0);
    wait_acks(*control, 2);
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    run.peers.join();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
  state.SetItemsProcessed(state.iterations());
}

// The copy a message costs at least, in one process and a warm cache.
void memcpy_bench(benchmark::State& state, std::size_t size) {
  std::vector<std::byte> source(size, std::byte{0x5a});
  std::vector<std::byte> sink(size);
  for (auto _ : state) {
    std::memcpy(sink.data(), source.data(), size);
    benchmark::DoNotOptimize(sink.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
  state.SetItemsProcessed(state.iterations());
}

// ---- one thread --------------------------------------------------------------
// One process, one thread: a send then its receive on one ring, so the
// per-message cost of each fast path shows without any cross-core handoff.
// Every pair is built before the clock starts; round() moves one message of
// `size` bytes from `source` to `sink` (zero-copy: writes the first byte in
// place and reads it back in place, as a producer building its message in
// the ring would, without the copies).

// Rings for the 4 KiB and 64 KiB rows: room for a few messages of 64 KiB.
constexpr std::size_t k_single_large_capacity = std::size_t{1} << 20;

std::size_t single_capacity(std::size_t size) {
  return size <= k_message_size ? shmkit::k_default_ring_capacity : k_single_large_capacity;
}

struct RingCopySingle {
  const std::string name = bench_name("sc1");
  shmkit::RingProducer producer;
  shmkit::RingConsumer consumer;

  explicit RingCopySingle(std::size_t size) {
    producer = shmkit::RingProducer::create(name, single_capacity(size));
    consumer = shmkit::RingConsumer::open(name);
  }
  RingCopySingle(const RingCopySingle&) = delete;
  RingCopySingle& operator=(const RingCopySingle&) = delete;
  ~RingCopySingle() {
    producer = shmkit::RingProducer();
    consumer = shmkit::RingConsumer();
    std::error_code ignored;
    shmkit::RingProducer::remove(name, {}, ignored);
  }
  void round(const std::byte* source, std::byte* sink, std::size_t size) {
    producer.send(source, size);
    benchmark::DoNotOptimize(consumer.receive(sink, size));
  }
};

struct RingZeroCopySingle : RingCopySingle {
  using RingCopySingle::RingCopySingle;
  void round(const std::byte* source, std::byte*, std::size_t size) {
    const shmkit::ByteSpan out = producer.reserve(size);
    out.data[0] = source[0];
    producer.commit();
    const shmkit::ConstByteSpan in = consumer.peek();
    benchmark::DoNotOptimize(in.data[0]);
    consumer.release();
  }
};

struct QueueSingle {
  const std::string name = bench_name("sq1");
  shmkit::Queue<Message> queue;

  explicit QueueSingle(std::size_t) { queue = shmkit::Queue<Message>::create(name, 64); }
  QueueSingle(const QueueSingle&) = delete;
  QueueSingle& operator=(const QueueSingle&) = delete;
  ~QueueSingle() {
    queue = shmkit::Queue<Message>();
    std::error_code ignored;
    shmkit::Queue<Message>::remove(name, {}, ignored);
  }
  void round(const std::byte* source, std::byte* sink, std::size_t) {
    Message message;
    std::memcpy(&message, source, sizeof message);
    queue.push(message);
    message = queue.pop();
    std::memcpy(sink, &message, sizeof message);
  }
};

// Both ends of one channel in this process: the creator's end sends, the
// opener's end receives.
struct ChannelSingle {
  const std::string name = bench_name("sh1");
  shmkit::Channel creator;
  shmkit::Channel opener;

  explicit ChannelSingle(std::size_t) {
    creator = shmkit::Channel::create(name);
    opener = shmkit::Channel::open(name);
  }
  ChannelSingle(const ChannelSingle&) = delete;
  ChannelSingle& operator=(const ChannelSingle&) = delete;
  ~ChannelSingle() {
    creator = shmkit::Channel();
    opener = shmkit::Channel();
    std::error_code ignored;
    shmkit::Channel::remove(name, {}, ignored);
  }
  void round(const std::byte* source, std::byte* sink, std::size_t size) {
    creator.send(source, size);
    benchmark::DoNotOptimize(opener.receive(sink, size));
  }
};

template <typename Pair>
void single_thread_bench(benchmark::State& state, std::size_t size) {
  std::vector<std::byte> source(size, std::byte{0x5a});
  std::vector<std::byte> sink(size);
  std::optional<Pair> pair;
  try {
    pair.emplace(size);
    // A few laps of the ring first: page faults are not timed.
    for (int i = 0; i < 4096; ++i) pair->round(source.data(), sink.data(), size);
    for (auto _ : state) {
      pair->round(source.data(), sink.data(), size);
      benchmark::ClobberMemory();
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

// ---- registration ---------------------------------------------------------------

void register_round_trip(const char* name, void (*bench)(benchmark::State&)) {
  benchmark::RegisterBenchmark(name, bench)->UseRealTime()->Unit(benchmark::kNanosecond);
}

template <typename Stream>
void register_stream(const char* kind, std::size_t size) {
  const std::string name = std::string("throughput/") + kind + "/" + std::to_string(size);
  benchmark::RegisterBenchmark(
      name.c_str(), [size](benchmark::State& state) { throughput_bench<Stream>(state, size); })
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

template <typename Pair>
void register_single(const char* kind, std::size_t size) {
  const std::string name = std::string("single/") + kind + "/" + std::to_string(size);
  benchmark::RegisterBenchmark(name.c_str(), [size](benchmark::State& state) {
    single_thread_bench<Pair>(state, size);
  })->Unit(benchmark::kNanosecond);
}

constexpr std::size_t k_zero_copy_rtt_sizes[] = {64, 4096, 65536, std::size_t{1} << 20,
                                                 std::size_t{16} << 20};
constexpr std::size_t k_single_sizes[] = {64, 4096, 65536};

void register_all() {
  using shmkit::WaitStrategy;
  for (const std::size_t size : k_single_sizes) {
    if (size == k_message_size) {
      register_single<RawSingle<shmkit::k_default_ring_capacity, false>>("raw_ring", size);
      register_single<RawSingle<shmkit::k_default_ring_capacity, true>>("raw_ring_fenced", size);
    } else {
      register_single<RawSingle<k_single_large_capacity, false>>("raw_ring", size);
    }
    register_single<RingCopySingle>("ring_copy", size);
    register_single<RingZeroCopySingle>("ring_zero_copy", size);
  }
  register_single<QueueSingle>("queue", k_message_size);
  register_single<ChannelSingle>("channel", k_message_size);
  register_round_trip("rtt/raw_atomic", &round_trip_bench<AtomicPingPong>);
  register_round_trip("rtt/raw_ring", &round_trip_bench<RawRingPingPong>);
  register_round_trip("rtt/ring_busy", &round_trip_bench<RingPingPong<WaitStrategy::busy>>);
  register_round_trip("rtt/ring_adaptive", &round_trip_bench<RingPingPong<WaitStrategy::adaptive>>);
  register_round_trip("rtt/queue_busy", &round_trip_bench<QueuePingPong>);
  register_round_trip("rtt/channel_busy", &round_trip_bench<ChannelPingPong>);
  register_round_trip("rtt/raw_futex", &round_trip_bench<FutexPingPong>);
  register_round_trip("rtt/pipe", &round_trip_bench<PipePingPong>);
  register_round_trip("rtt/unix_seqpacket", &round_trip_bench<UnixPingPong>);
#ifdef SHMKIT_BENCH_HAVE_BOOST
  register_round_trip("rtt/boost_message_queue", &round_trip_bench<BoostQueuePingPong>);
#endif
#ifdef SHMKIT_BENCH_HAVE_ICEORYX
  register_round_trip("rtt/iceoryx_zero_copy", &iceoryx_round_trip_bench<true>);
  register_round_trip("rtt/iceoryx_copy", &iceoryx_round_trip_bench<false>);
#endif
  for (const std::size_t size : k_zero_copy_rtt_sizes) {
    benchmark::RegisterBenchmark(
        ("rtt/ring_zero_copy/" + std::to_string(size)).c_str(),
        [size](benchmark::State& state) { round_trip_bench<RingZeroCopyPingPong>(state, size); })
        ->UseRealTime()
        ->Unit(benchmark::kNanosecond);
  }
  // Size-major, so that transports compared with each other run close
  // together in time on a machine whose speed drifts.
  for (const std::size_t size : k_stream_sizes) {
    benchmark::RegisterBenchmark(("throughput/memcpy/" + std::to_string(size)).c_str(),
                                 [size](benchmark::State& state) { memcpy_bench(state, size); })
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    register_stream<RawStream>("raw_ring", size);
    register_stream<RawStreamChecked>("raw_ring_sleeper_check", size);
    register_stream<RingStream<WaitStrategy::adaptive, false>>("ring_copy", size);
    register_stream<RingStream<WaitStrategy::busy, false>>("ring_copy_busy", size);
    register_stream<RingStream<WaitStrategy::adaptive, true>>("ring_zero_copy", size);
  }
}

}  // namespace

int main(int argc, char** argv) {
#ifdef SHMKIT_BENCH_HAVE_ICEORYX
  // This program executed again as an iceoryx echo peer: nothing else runs.
  int peer_status = 0;
  if (shmkit::bench::run_iceoryx_peer_if_asked(argc, argv, peer_status)) return peer_status;
  benchmark::AddCustomContext("iceoryx", shmkit::bench::iceoryx_description());
#else
  benchmark::AddCustomContext("iceoryx", "no (iceoryx_posh or iox-roudi not found at build time)");
#endif
  // Ten repetitions keep the suite near four minutes (see run_suite).
  static char repetitions[] = "--benchmark_repetitions=10";
#ifdef SHMKIT_BENCH_HAVE_BOOST
  benchmark::AddCustomContext("boost_message_queue", "yes");
#else
  benchmark::AddCustomContext("boost_message_queue", "no (headers not found)");
#endif
  return shmkit::bench::run_suite(argc, argv, repetitions, "child", register_all);
}
