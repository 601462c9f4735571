// Channel: the input overwrites a live channel's segment (both rings), then
// both ends use it, and the opening end closes and comes back.
#include "fuzz_support.hpp"
#include "ring_use.hpp"

using namespace shmkit;
using namespace shmkit::fuzz;

namespace {

void use(Channel& channel, std::uint8_t mode) {
  if (!channel.is_open()) return;
  std::error_code ec;
  char buffer[64] = {};
  attempt("channel try_send", [&] { (void)channel.try_send("ping", 4); });
  attempt("channel send_until 1 ms",
          [&] { (void)channel.send_until(buffer, sizeof buffer, deadline_after(k_short), ec); });
  attempt("channel try_receive", [&] { (void)channel.try_receive(buffer, sizeof buffer); });
  attempt("channel receive_until 1 ms",
          [&] { (void)channel.receive_until(buffer, sizeof buffer, deadline_after(k_short), ec); });
  attempt("channel wait_for_peer 1 ms", [&] { (void)channel.wait_for_peer_for(k_short, ec); });
  fuzz::use(channel.outbound(), mode);
  fuzz::use(channel.inbound(), mode);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Input input(data, size);
  // mode: bits 0-1 the capacity, bits 2-4 messages each way first.
  const std::size_t capacity = std::size_t{256} << (input.mode() & 3);
  const int sent = (input.mode() >> 2) & 7;
  const std::string name = next_name("c");
  const ChannelOptions options = object_options<ChannelOptions>(quick_options());
  std::error_code ec;

  Channel creator;
  attempt("create", [&] { creator = Channel::create(name, capacity, options, ec); });
  if (creator.is_open()) {
    Channel opener;
    attempt("open", [&] { opener = Channel::open(name, options, ec); });
    if (opener.is_open()) {
      attempt("fill", [&] {
        std::vector<unsigned char> message(capacity / 4, 0x22);
        for (int i = 0; i < sent; ++i) {
          (void)creator.try_send(message.data(), 5 + 13 * i);
          (void)opener.try_send(message.data(), 7 + 11 * i);
        }
      });
    }
    scribble(name, input, sync_state_offset());
    inspect(name, input);
    use(creator, input.mode());
    use(opener, input.mode());
    attempt("open a taken end", [&] { (void)Channel::open(name, options, ec); });
    attempt("close the opener", [&] { opener = Channel(); });
    attempt("reopen", [&] { opener = Channel::open_or_create(name, capacity, options, ec); });
    use(opener, input.mode());
    use(creator, input.mode());
    attempt("close", [&] {
      opener = Channel();
      creator = Channel();
    });
  }
  remove_all(name);
  return 0;
}
