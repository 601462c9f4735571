// One publisher of 1 MiB frames at 100 Hz and several subscribers, each
// reading the same frames in place (zero copy: a frame is written once, into
// the topic's pool, and every subscriber maps that memory read-only):
//   frames publish NAME FRAMES HZ SUBSCRIBERS   creates the topic, waits for
//                                               SUBSCRIBERS subscribers, then
//                                               publishes FRAMES frames at HZ
//   frames subscribe NAME LABEL [DELAY_MS]      receives until the publisher
//                                               has gone, checking every frame;
//                                               DELAY_MS makes it slow
//   frames remove NAME                          removes the topic
// A slow subscriber (queue depth 2, drop_oldest) never slows the publisher or
// the others: when its queue is full the oldest frame in it is dropped, and
// dropped() counts them. `shmkit info NAME` shows all of it while it runs.
#include <shmkit/shmkit.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

constexpr std::size_t k_frame_size = std::size_t{1} << 20;  // 1 MiB

// What the first bytes of every frame say about it; the rest of the frame is
// filled with the low byte of its number.
struct FrameHeader {
  std::uint64_t number;
  std::int64_t published_ns;  // steady_clock, shared by every process on the machine
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

shmkit::TopicConfig frame_topic() {
  shmkit::TopicConfig config;
  config.sample_size = k_frame_size;
  // Enough for every queue (8 + 8 + 2), one frame each subscriber is reading
  // and one on loan: the publisher never waits for a free frame.
  config.sample_count = 24;
  config.max_publishers = 1;
  config.max_subscribers = 4;
  config.max_queue_depth = 8;
  return config;
}

int publish(const std::string& name, long frames, long hz, long subscribers) {
  auto publisher = shmkit::Publisher::open_or_create(name, frame_topic());
  std::printf("publisher: topic '%s' ready, waiting for %ld subscribers\n", name.c_str(),
              subscribers);
  std::fflush(stdout);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (publisher.subscriber_count() < static_cast<std::size_t>(subscribers)) {
    if (std::chrono::steady_clock::now() > give_up) {
      std::fprintf(stderr, "publisher: only %zu subscribers after 20 s\n",
                   publisher.subscriber_count());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::printf("publisher: %ld subscribers attached; publishing %ld frames of 1 MiB at %ld Hz\n",
              subscribers, frames, hz);
  std::fflush(stdout);
  const auto period = std::chrono::nanoseconds(1000000000 / hz);
  const auto start = std::chrono::steady_clock::now();
  for (long n = 0; n < frames; ++n) {
    std::this_thread::sleep_until(start + n * period);
    // Zero copy: the frame is drawn straight into the pool.
    shmkit::Loan frame = publisher.loan(k_frame_size);
    std::memset(frame.data() + sizeof(FrameHeader), static_cast<int>(n & 0xff),
                k_frame_size - sizeof(FrameHeader));
    const FrameHeader header{static_cast<std::uint64_t>(n), now_ns()};
    std::memcpy(frame.data(), &header, sizeof header);
    publisher.publish(std::move(frame));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("publisher: %ld frames in %.2f s (%.0f frames/s, %.0f MiB/s written once)\n", frames,
              seconds, frames / seconds, frames / seconds);
  std::fflush(stdout);
  return 0;
}

// Opens the subscriber, waiting up to 20 s for the publisher to create the topic.
shmkit::Subscriber open_subscriber(const std::string& name, const shmkit::SubscriberOptions& o) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    std::error_code ec;
    auto subscriber = shmkit::Subscriber::open(name, o, ec);
    if (!ec) return subscriber;
    if (ec != shmkit::errc::not_found || std::chrono::steady_clock::now() > give_up) {
      throw shmkit::Error(ec, shmkit::error_message(ec));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int subscribe(const std::string& name, const std::string& label, long delay_ms) {
  shmkit::SubscriberOptions options;
  options.overflow = shmkit::OverflowPolicy::drop_oldest;
  if (delay_ms > 0) options.queue_depth = 2;
  auto subscriber = open_subscriber(name, options);
  long received = 0;
  long damaged = 0;
  long out_of_order = 0;
  std::uint64_t last = 0;
  double latency_sum_us = 0;
  for (;;) {
    std::error_code ec;
    const shmkit::Sample frame = subscriber.receive_for(std::chrono::seconds(20), ec);
    if (ec == shmkit::errc::peer_gone) break;  // the publisher is done and we have it all
    if (ec) throw shmkit::Error(ec, shmkit::error_message(ec));
    if (!frame) {
      std::fprintf(stderr, "subscriber %s: no frame for 20 s\n", label.c_str());
      return 1;
    }
    FrameHeader header;
    std::memcpy(&header, frame.data(), sizeof header);
    latency_sum_us += static_cast<double>(now_ns() - header.published_ns) / 1000.0;
    // Read in place: the first and last bytes of the body.
    const auto fill = static_cast<std::byte>(header.number & 0xff);
    if (frame.size() != k_frame_size || frame.data()[sizeof header] != fill ||
        frame.data()[k_frame_size - 1] != fill) {
      ++damaged;
    }
    if (received > 0 && header.number <= last) ++out_of_order;
    last = header.number;
    ++received;
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  }
  std::printf(
      "subscriber %s: received %ld frames (last #%llu), dropped %llu (queue depth %zu, "
      "drop_oldest), %s, mean latency %.0f us\n",
      label.c_str(), received, static_cast<unsigned long long>(last),
      static_cast<unsigned long long>(subscriber.dropped()), subscriber.queue_depth(),
      damaged == 0 && out_of_order == 0 ? "every frame intact and in order"
                                        : "DAMAGED OR OUT OF ORDER FRAMES",
      received > 0 ? latency_sum_us / static_cast<double>(received) : 0.0);
  return damaged == 0 && out_of_order == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string role = argc > 1 ? argv[1] : "";
  try {
    if (role == "remove" && argc == 3) return shmkit::Topic::remove(argv[2]) ? 0 : 1;
    if (role == "publish" && argc == 6) {
      return publish(argv[2], std::stol(argv[3]), std::stol(argv[4]), std::stol(argv[5]));
    }
    if (role == "subscribe" && (argc == 4 || argc == 5)) {
      return subscribe(argv[2], argv[3], argc == 5 ? std::stol(argv[4]) : 0);
    }
  } catch (const shmkit::Error& e) {
    std::fprintf(stderr, "frames %s: %s\n", role.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: frames publish NAME FRAMES HZ SUBSCRIBERS\n"
               "       frames subscribe NAME LABEL [DELAY_MS]\n"
               "       frames remove NAME\n");
  return 2;
}
