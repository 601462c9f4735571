// Client::connect, in four steps: wait for a live server, claim a slot,
// create the connection's channel, then publish the request and wait for
// the server's answer. See server_registry.hpp for the protocol.
#include <shmkit/client.hpp>

#include "core/error_wrappers.hpp"
#include "core/name_check.hpp"
#include "core/process_identity.hpp"
#include "messaging/channel_access.hpp"
#include "messaging/peer_wait.hpp"
#include "messaging/ring_core.hpp"
#include "messaging/server_registry.hpp"
#include "segment/segment_header.hpp"
#include "segment/segment_options.hpp"

#include <algorithm>
#include <thread>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

bool passed(Deadline deadline) {
  return deadline != k_forever && std::chrono::steady_clock::now() >= deadline;
}

// The registry of a live server, waiting until `deadline` for one to start
// (or a dead one to be restarted). Empty, with no failure, at the deadline.
SyncSegment wait_for_server(const std::string& server, const SegmentOptions& options,
                            Deadline deadline, Failure& failure) {
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    SyncSegment registry = open_registry(server, options, OpenMode::open, 0, failure);
    if (!failure && endpoint_alive(registry_state(registry).server.load())) return registry;
    if (failure && failure.code != make_error_code(errc::not_found)) return {};
    failure.clear();
    // Reopened each round: a registry removed and made again by a new
    // server is another segment.
    registry = SyncSegment();
    if (passed(deadline)) return {};
    // Never past the deadline.
    const auto left = deadline - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, left));
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

ServerSlot* claim_slot(ServerState& state, std::uint64_t self) {
  for (ServerSlot& candidate : state.slots) {
    std::uint64_t expected = 0;
    if (candidate.client.compare_exchange_strong(expected, self, std::memory_order_acq_rel)) {
      return &candidate;
    }
  }
  return nullptr;
}

// A fresh id and its channel; a name left by an earlier connection (still
// held open by its other end) is skipped.
Channel create_connection(const std::string& server, ServerState& state,
                          const ClientOptions& options, const SegmentOptions& segment_options,
                          std::uint32_t& id, Failure& failure) {
  const std::uint32_t space = connection_id_space(server);
  const std::uint64_t capacity = state.capacity.load(std::memory_order_acquire);
  for (int attempt = 0; attempt < 64; ++attempt) {
    failure.clear();
    id = state.next_id.fetch_add(1) % space;
    Channel channel = ChannelAccess::open_derived(
        connection_name(server, id), static_cast<std::size_t>(capacity), options.wait,
        segment_options, OpenMode::create, ChannelEnd::creator, failure);
    if (failure.code != make_error_code(errc::already_exists)) return channel;
  }
  return Channel();
}

// The request published, until the server answers or `deadline`. A server
// that dies meanwhile is not the end: its restart takes the registry over and
// accepts live requests. A server that stops cleanly removes its registry, so
// the request is withdrawn and `server_stopped` set: the caller waits for the
// next server's registry.
Channel await_answer(const std::string& server, SyncSegment& registry, ServerSlot& slot,
                     std::uint64_t self, std::uint32_t id, Channel channel,
                     const ClientOptions& options, Deadline deadline, bool& server_stopped,
                     Failure& failure) {
  ServerState& state = registry_state(registry);
  const std::uint64_t requested = ticket(id, slot_requested);
  slot.ticket.store(requested, std::memory_order_release);
  wake_sleepers(SleepWords{state.accept_sleepers, state.accept_signal, *registry.waiters[0]}, 1);

  const WaitResult result = wait_for_peer(
      options.wait, deadline,
      SleepWords{state.connect_sleepers, state.connect_signal, *registry.waiters[1]},
      [&] { return slot.ticket.load(std::memory_order_acquire) != requested; },
      [&] { return state.server.load(std::memory_order_acquire) == k_endpoint_closed; });
  std::uint64_t seen = requested;
  const bool answered = result == WaitResult::ready ||
                        !slot.ticket.compare_exchange_strong(seen, 0, std::memory_order_acq_rel);
  if (answered && seen == requested) seen = slot.ticket.load(std::memory_order_acquire);
  if (answered && seen == ticket(id, slot_accepted)) return channel;
  server_stopped = !answered && result == WaitResult::peer_gone;

  // Leaving: our channel goes; the slot is written only while still ours
  // (one taken from us may be another client's by now, even another
  // thread's of this process, with our client word).
  channel = Channel();
  remove_connection(server, id, segment_options_for(options));
  const bool refused = seen == ticket(id, slot_refused);
  if (!answered || refused) {
    slot.ticket.store(0, std::memory_order_release);
    std::uint64_t expected = self;
    slot.client.compare_exchange_strong(expected, 0);
  }
  if (answered) {
    failure.set(std::make_error_code(std::errc::connection_refused),
                "connect to server " + quoted(server) +
                    (refused ? ": the server could not open the connection's channel; check the "
                               "permissions and trusted owners of both sides"
                             : ": its request was taken out of its slot (another process changed "
                               "the server's registry); try again"));
  }
  return Channel();  // not answered by the deadline: empty, no failure
}

Channel connect(std::string_view server_view, Deadline deadline, const ClientOptions& options,
                Failure& failure) {
  if (!check_name(server_view, failure)) return Channel();
  const std::string server(server_view);
  const SegmentOptions segment_options = segment_options_for(options);

  for (;;) {
    SyncSegment registry = wait_for_server(server, segment_options, deadline, failure);
    if (registry.state == nullptr) return Channel();
    ServerState& state = registry_state(registry);

    const std::uint64_t self = pack_slot(current_process());
    ServerSlot* slot = claim_slot(state, self);
    if (slot == nullptr) {
      failure.set(errc::overflow, "connect to server " + quoted(server) + ": all " +
                                      std::to_string(Server::k_max_connections) +
                                      " connection slots are in use; close a connection first");
      return Channel();
    }
    std::uint32_t id = 0;
    Channel channel = create_connection(server, state, options, segment_options, id, failure);
    if (failure) {
      slot->ticket.store(0, std::memory_order_release);
      std::uint64_t expected = self;
      slot->client.compare_exchange_strong(expected, 0);
      return Channel();
    }
    // try_connect does not wait for a server, but the answer of a live one
    // is a round trip to another process: it gets open_timeout.
    const Deadline answer_by =
        deadline == Deadline() ? deadline_after(options.open_timeout) : deadline;
    bool server_stopped = false;
    Channel answer = await_answer(server, registry, *slot, self, id, std::move(channel), options,
                                  answer_by, server_stopped, failure);
    if (!server_stopped) return answer;
    // The server stopped before answering: wait for the next one, within
    // the same deadline.
  }
}

}  // namespace
}  // namespace detail

Client Client::connect_at(std::string_view server, Deadline deadline, const ClientOptions& options,
                          std::error_code* ec) {
  auto attempt = [&](detail::Failure& f) {
    return Client(detail::connect(server, deadline, options, f));
  };
  if (ec == nullptr) return detail::throwing(attempt);
  return detail::without_throwing(*ec, attempt);
}

SHMKIT_END_NAMESPACE
