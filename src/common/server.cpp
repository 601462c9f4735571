// Server and Client: a registry segment of connection slots, and one Channel
// per connection.
//
// A slot belongs to whoever holds its `client` word (0 = free). A client
// claims a slot, picks a fresh id, creates the channel "<server>.<id>" and
// marks the slot requested; the server opens that channel, marks the slot
// accepted and wakes the client. Closing the server's end of the connection
// removes the channel and frees the slot. A client that dies before being
// accepted is found by the server's next scan and its slot freed.
#include <shmkit/server.hpp>

#include "channel_access.hpp"
#include "error_wrappers.hpp"
#include "name_check.hpp"
#include "peer_wait.hpp"
#include "process_identity.hpp"
#include "ring_core.hpp"
#include "segment_header.hpp"
#include "sync_segment.hpp"

#include <shmkit/name.hpp>

#include <cstdio>
#include <thread>

namespace shmkit {
namespace detail {
namespace {

constexpr std::uint32_t k_server_layout = 0x53525631;             // "SRV1"
constexpr std::size_t k_server_name_max = k_max_name_length - 9;  // ".xxxxxx" + ".N"
constexpr std::uint32_t k_id_mask = 0xffffff;

enum SlotState : std::uint32_t { slot_free = 0, slot_requested = 2, slot_accepted = 3 };

struct ServerSlot {
  std::atomic<std::uint64_t> client;  // 0, or pack_slot() of the client holding the slot
  std::atomic<std::uint32_t> state;
  std::atomic<std::uint32_t> id;  // the channel's suffix, set before state = requested
};

struct ServerState {
  std::atomic<std::uint64_t> server;  // endpoint word of the accepting process
  std::atomic<std::uint32_t> next_id;
  std::atomic<std::uint32_t> accept_sleepers;
  std::atomic<std::uint32_t> accept_signal;
  std::atomic<std::uint32_t> connect_sleepers;
  std::atomic<std::uint32_t> connect_signal;
  std::uint32_t reserved;
  ServerSlot slots[Server::k_max_connections];
};

std::string channel_name(const std::string& server, std::uint32_t id) {
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, ".%06x", id & k_id_mask);
  return server + suffix;
}

bool check_server_name(std::string_view name, Failure& failure) {
  if (!check_name(name, failure)) return false;
  if (name.size() > k_server_name_max) {
    failure.set(errc::invalid_name, "server '" + std::string(name) +
                                        "': server names are at most " +
                                        std::to_string(k_server_name_max) +
                                        " characters (each connection is named '<server>.<id>')");
    return false;
  }
  return true;
}

SyncSegment open_registry(const std::string& name, const Options& options, OpenMode mode,
                          Failure& failure) {
  const SyncRequest request{
      SegmentKind::server, k_server_layout, sizeof(ServerState), 2, true, nullptr, nullptr};
  return open_sync_segment(name, options, mode, request, failure);
}

bool alive(std::uint64_t word) {
  return word > k_endpoint_closed && is_alive(word >> 32, word, k_slot_start_time_mask);
}

}  // namespace

class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(std::string name, const ConnectionOptions& connections, const Options& options)
      : name_(std::move(name)), connections_(connections), options_(options) {}

  bool start(Failure& failure) {
    // A dead predecessor's registry is taken over, not reclaimed afresh: its
    // slots name the channels it leaves behind, which are cleaned below.
    Options registry_options = options_;
    registry_options.reclaim_stale = false;
    registry_ = open_registry(name_, registry_options, OpenMode::open_or_create, failure);
    if (failure) return false;
    state_ = static_cast<ServerState*>(registry_.state);
    if (!claim_endpoint(state_->server, "server " + quoted(name_), "server process", failure)) {
      return false;
    }
    // Whatever a dead predecessor left: its connections' channels and slots.
    for (ServerSlot& slot : state_->slots) {
      if (slot.client.load() == 0) continue;
      Failure ignored;
      remove_ring_channel(slot.id.load(), ignored);
      slot.state.store(slot_free);
      slot.client.store(0);
    }
    return true;
  }

  ~ServerCore() {
    if (state_ == nullptr) return;
    close_endpoint(state_->server);
    // Clients waiting to be accepted must learn that nobody will.
    state_->connect_signal.fetch_add(1);
    registry_.waiters[1]->wake(state_->connect_signal, state_->connect_sleepers.load() + 1);
    // A server that stops takes its name with it, unless a successor has
    // already claimed the registry. Open connections keep their channels.
    if (state_->server.load() == k_endpoint_closed) {
      Failure ignored;
      remove_sync_segment(name_, options_, 2, ignored);
    }
  }

  Channel accept(Deadline deadline, Failure& failure) {
    for (;;) {
      if (Channel channel = take_request(failure); channel.is_open() || failure) return channel;
      const WaitResult result = wait_for_peer(
          connections_.wait, deadline,
          SleepWords{state_->accept_sleepers, state_->accept_signal, *registry_.waiters[0]},
          [&] { return has_request(); }, [] { return false; });
      if (result != WaitResult::ready) return Channel();
    }
  }

  const std::string& name() const noexcept { return name_; }

 private:
  bool has_request() const {
    for (const ServerSlot& slot : state_->slots) {
      if (slot.state.load(std::memory_order_acquire) == slot_requested) return true;
    }
    return false;
  }

  void remove_ring_channel(std::uint32_t id, Failure& failure) {
    Channel::remove(channel_name(name_, id), options_, failure.code);
  }

  // Accepts one pending request, freeing the slots of clients that died on
  // the way. An empty Channel if there is none.
  Channel take_request(Failure& failure) {
    for (ServerSlot& slot : state_->slots) {
      const std::uint64_t client = slot.client.load(std::memory_order_acquire);
      if (client == 0) continue;
      const std::uint32_t state = slot.state.load(std::memory_order_acquire);
      if (state == slot_accepted) continue;
      const std::uint32_t id = slot.id.load(std::memory_order_relaxed) & k_id_mask;
      if (state != slot_requested) {
        if (!alive(client)) free_slot(slot, client, id);  // died while connecting
        continue;
      }
      Failure open_failure;
      Channel channel = ChannelAccess::open(channel_name(name_, id), 0, connections_.wait, options_,
                                            OpenMode::open, ChannelEnd::opener, open_failure);
      std::uint32_t expected = slot_requested;
      if (!channel.is_open() ||
          !slot.state.compare_exchange_strong(expected, slot_accepted, std::memory_order_acq_rel)) {
        // The client gave up or died, or its channel is unusable.
        channel = Channel();
        if (!alive(client) || expected != slot_requested) free_slot(slot, client, id);
        continue;
      }
      wake_connectors();
      auto self = shared_from_this();
      ServerSlot* slot_ptr = &slot;
      ChannelAccess::on_close(
          channel, [self, slot_ptr, client, id] { self->free_slot(*slot_ptr, client, id); });
      (void)failure;
      return channel;
    }
    return Channel();
  }

  void free_slot(ServerSlot& slot, std::uint64_t client, std::uint32_t id) {
    Failure ignored;
    remove_ring_channel(id, ignored);
    slot.state.store(slot_free, std::memory_order_release);
    std::uint64_t expected = client;
    slot.client.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
  }

  void wake_connectors() {
    wake_sleepers(
        SleepWords{state_->connect_sleepers, state_->connect_signal, *registry_.waiters[1]},
        Server::k_max_connections);
  }

  std::string name_;
  ConnectionOptions connections_;
  Options options_;
  SyncSegment registry_;
  ServerState* state_ = nullptr;
};

// ---- client -----------------------------------------------------------------

Channel connect(std::string_view server_view, Deadline deadline,
                const ConnectionOptions& connection, const Options& options, Failure& failure) {
  if (!check_server_name(server_view, failure)) return Channel();
  const std::string server(server_view);
  const std::string what = "server " + quoted(server);

  // Wait for the server to exist.
  SyncSegment registry;
  for (;;) {
    registry = open_registry(server, options, OpenMode::open, failure);
    if (!failure) break;
    if (failure.code != make_error_code(errc::not_found) ||
        std::chrono::steady_clock::now() >= deadline) {
      if (failure.code == make_error_code(errc::not_found)) {
        failure.set(std::make_error_code(std::errc::timed_out),
                    "connect to " + what + ": no such server appeared before the deadline");
      }
      return Channel();
    }
    failure.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto& state = *static_cast<ServerState*>(registry.state);
  PeerWatch server_watch;
  if (server_watch.gone(state.server.load())) {
    failure.set(errc::peer_gone, "connect to " + what +
                                     ": it is not running (its process exited "
                                     "or closed); start it first");
    return Channel();
  }

  const std::uint64_t self = pack_slot(current_process());
  ServerSlot* slot = nullptr;
  for (ServerSlot& candidate : state.slots) {
    std::uint64_t expected = 0;
    if (candidate.client.compare_exchange_strong(expected, self, std::memory_order_acq_rel)) {
      slot = &candidate;
      break;
    }
  }
  if (slot == nullptr) {
    failure.set(errc::overflow, "connect to " + what + ": all " +
                                    std::to_string(Server::k_max_connections) +
                                    " connection slots are in use");
    return Channel();
  }
  // A fresh id per connection; a name left by an earlier run of the server
  // (still held open by one of its old clients) is skipped.
  std::uint32_t id = 0;
  Channel channel;
  for (int attempt = 0; attempt < 64; ++attempt) {
    failure.clear();
    id = state.next_id.fetch_add(1) & k_id_mask;
    slot->id.store(id, std::memory_order_relaxed);
    channel = ChannelAccess::open(channel_name(server, id), connection.capacity, connection.wait,
                                  options, OpenMode::create, ChannelEnd::creator, failure);
    if (failure.code != make_error_code(errc::already_exists)) break;
  }
  auto give_up = [&] {
    const std::string channel_text = channel_name(server, id);
    channel = Channel();
    std::error_code ignored;
    Channel::remove(channel_text, options, ignored);
    slot->state.store(slot_free, std::memory_order_release);
    std::uint64_t expected = self;
    slot->client.compare_exchange_strong(expected, 0);
  };
  if (failure) {
    give_up();
    return Channel();
  }
  slot->state.store(slot_requested, std::memory_order_release);
  wake_sleepers(SleepWords{state.accept_sleepers, state.accept_signal, *registry.waiters[0]}, 1);

  const WaitResult result = wait_for_peer(
      connection.wait, deadline,
      SleepWords{state.connect_sleepers, state.connect_signal, *registry.waiters[1]},
      [&] { return slot->state.load(std::memory_order_acquire) == slot_accepted; },
      [&] { return server_watch.gone(state.server.load(std::memory_order_acquire)); });
  if (result == WaitResult::ready) return channel;
  // Withdraw, unless the server accepted in the meantime.
  std::uint32_t expected = slot_requested;
  if (!slot->state.compare_exchange_strong(expected, slot_free, std::memory_order_acq_rel)) {
    if (expected == slot_accepted) return channel;
  }
  give_up();
  if (result == WaitResult::peer_gone) {
    failure.set(errc::peer_gone, "connect to " + what + ": the server process exited or closed");
  } else {
    failure.set(std::make_error_code(std::errc::timed_out),
                "connect to " + what + ": not accepted before the deadline");
  }
  return Channel();
}

}  // namespace detail

using detail::Failure;

Server::Server() noexcept = default;
Server::Server(Server&&) noexcept = default;
Server& Server::operator=(Server&&) noexcept = default;
Server::~Server() = default;

namespace {

std::shared_ptr<detail::ServerCore> start_server(std::string_view name,
                                                 const ConnectionOptions& connections,
                                                 const Options& options, Failure& failure) {
  if (!detail::check_server_name(name, failure)) return nullptr;
  auto core = std::make_shared<detail::ServerCore>(std::string(name), connections, options);
  if (!core->start(failure)) return nullptr;
  return core;
}

}  // namespace

Server::Server(std::string_view name, const ConnectionOptions& connections, const Options& options)
    : core_(detail::throwing(
          [&](Failure& f) { return start_server(name, connections, options, f); })) {}

Server Server::start(std::string_view name, const ConnectionOptions& connections,
                     const Options& options, std::error_code& ec) noexcept {
  Server server;
  server.core_ = detail::without_throwing(
      ec, [&](Failure& f) { return start_server(name, connections, options, f); });
  return server;
}

Channel Server::accept_until(Deadline deadline) {
  return detail::throwing([&](Failure& f) {
    if (!core_)
      throw std::system_error(std::make_error_code(std::errc::operation_not_permitted),
                              "accept on an empty Server handle");
    return core_->accept(deadline, f);
  });
}

Channel Server::accept_until(Deadline deadline, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    if (!core_) {
      f.set(std::make_error_code(std::errc::operation_not_permitted),
            "accept on an empty Server handle");
      return Channel();
    }
    return core_->accept(deadline, f);
  });
}

const std::string& Server::name() const noexcept {
  static const std::string empty;
  return core_ ? core_->name() : empty;
}

Channel Client::connect_until(std::string_view server, Deadline deadline,
                              const ConnectionOptions& connection, const Options& options) {
  return detail::throwing(
      [&](Failure& f) { return detail::connect(server, deadline, connection, options, f); });
}

Channel Client::connect_until(std::string_view server, Deadline deadline,
                              const ConnectionOptions& connection, const Options& options,
                              std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::connect(server, deadline, connection, options, f); });
}

}  // namespace shmkit
