// Server: takes a name's registry over, accepts the requests clients publish
// in its slots, and frees a connection when its end closes.
//
// Clients use the registry as soon as it is published, before the server
// claims it, and while a restarted server is still taking it over; so a
// starting server frees only what nobody else will: the connections its
// predecessor accepted and the slots of dead clients. A live client's slot
// is its own until it leaves it or the server accepts or refuses it.
#include <shmkit/server.hpp>

#include "core/error_wrappers.hpp"
#include "core/name_check.hpp"
#include "messaging/channel_access.hpp"
#include "messaging/peer_wait.hpp"
#include "messaging/ring_core.hpp"
#include "messaging/server_registry.hpp"
#include "messaging/wait_hooks.hpp"
#include "segment/segment_options.hpp"

#include <memory>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(std::string name, const ServerOptions& options, std::size_t capacity)
      : name_(std::move(name)),
        options_(options),
        segment_options_(segment_options_for(options)),
        capacity_(capacity) {}

  bool start(Failure& failure) {
    // A dead predecessor's registry is taken over, not reclaimed afresh: its
    // slots name the channels it leaves behind, which are cleaned below.
    SegmentOptions registry_options = segment_options_;
    registry_options.reclaim_stale = false;
    registry_ =
        open_registry(name_, registry_options, OpenMode::open_or_create, capacity_, failure);
    if (failure) return false;
    ServerState& state = registry_state(registry_);
    if (!claim_endpoint(state.server, "server " + quoted(name_), "server process", failure)) {
      return false;  // state_ stays null: this core must not close or remove anything
    }
    state_ = &state;
    state_->capacity.store(capacity_, std::memory_order_release);
    free_what_the_dead_left();
    return true;
  }

  // Runs from noexcept paths (~Server, Channel::close): nothing escapes.
  ~ServerCore() {
    if (state_ == nullptr) return;
    close_endpoint(state_->server);
    try {
      // Clients waiting to be accepted stop waiting for this server.
      state_->connect_signal.fetch_add(1);
      registry_.waiters[1]->wake(state_->connect_signal, Server::k_max_connections);
      // A server that stops takes its name with it, unless a successor has
      // already claimed the registry. Open connections keep their channels.
      if (state_->server.load() == k_endpoint_closed) {
        Failure ignored;
        remove_sync_segment(name_, segment_options_, 2, ignored);
      }
    } catch (...) {
      // Out of memory while naming the registry: it stays, and the next
      // server (or `shmkit clean`) frees it as a dead server's.
    }
  }

  Channel accept(Deadline deadline) {
    for (;;) {
      if (Channel channel = take_request(); channel.is_open()) return channel;
      // Whatever the registry holds, a wait ends by its deadline: a slot
      // that looks ready but yields nothing must not keep us here.
      if (deadline != k_forever && std::chrono::steady_clock::now() >= deadline) return Channel();
      const WaitResult result = wait_for_peer(
          options_.wait, deadline,
          SleepWords{state_->accept_sleepers, state_->accept_signal, *registry_.waiters[0]},
          [&] { return has_request(); }, [] { return false; });
      if (result != WaitResult::ready) return Channel();
    }
  }

  const std::string& name() const noexcept { return name_; }
  std::size_t capacity() const noexcept { return capacity_; }

  // Ready: a request is pending, so accept() would not wait. None in a
  // fork() child: the server (its registry claim) is the parent's.
  WaitHook wait_hook() const {
    WaitHook hook;
    if (!opened_by_this_process(registry_.memory)) return hook;
    ServerState* state = state_;
    hook.ready = [state] { return has_request(*state); };
    hook.sleepers = &state_->accept_sleepers;
    hook.signal = &state_->accept_signal;
    hook.waiter = registry_.waiters[0].get();
    return hook;
  }

 private:
  // Whatever a dead predecessor left: the channels and slots of the
  // connections it accepted, and of clients that died. Not a live client's
  // request, nor a slot a live client is filling in: clients found this
  // registry before we claimed it, and a request made then is ours to
  // accept (freeing it removed a channel its client was waiting on, or left
  // the client publishing into a slot it no longer held).
  void free_what_the_dead_left() {
    for (ServerSlot& slot : state_->slots) {
      const std::uint64_t client = slot.client.load(std::memory_order_acquire);
      if (client == 0) continue;
      const std::uint64_t seen = slot.ticket.load(std::memory_order_acquire);
      if (ticket_state(seen) == slot_accepted || !endpoint_alive(client)) {
        free_slot(slot, client, seen);
      }
    }
  }

  bool has_request() const { return has_request(*state_); }

  // Must agree with take_request(): a slot it would skip (no client) is no
  // request, or a waiter would spin on it for ever.
  static bool has_request(const ServerState& state) {
    for (const ServerSlot& slot : state.slots) {
      if (slot.client.load(std::memory_order_acquire) != 0 &&
          ticket_state(slot.ticket.load(std::memory_order_acquire)) == slot_requested) {
        return true;
      }
    }
    return false;
  }

  // Accepts one pending request, freeing the slots of clients that died on
  // the way. An empty Channel if there is none.
  Channel take_request() {
    for (ServerSlot& slot : state_->slots) {
      const std::uint64_t client = slot.client.load(std::memory_order_acquire);
      if (client == 0) continue;
      std::uint64_t seen = slot.ticket.load(std::memory_order_acquire);
      const std::uint32_t state = ticket_state(seen);
      if (state == slot_accepted) continue;
      if (state != slot_requested) {
        if (!endpoint_alive(client)) free_slot(slot, client, seen);  // died while connecting
        continue;
      }
      const std::uint32_t id = ticket_id(seen);
      Failure open_failure;
      Channel channel = ChannelAccess::open_derived(connection_name(name_, id), 0, options_.wait,
                                                    segment_options_, OpenMode::open,
                                                    ChannelEnd::opener, open_failure);
      const std::uint64_t outcome = ticket(id, channel.is_open() ? slot_accepted : slot_refused);
      if (!slot.ticket.compare_exchange_strong(seen, outcome, std::memory_order_acq_rel)) {
        continue;  // that client gave up meanwhile (another may use the slot by now)
      }
      wake_connectors();
      if (!channel.is_open()) continue;  // refused: the client cleans up and leaves
      auto self = shared_from_this();
      ServerSlot* slot_ptr = &slot;
      ChannelAccess::on_close(channel, [self, slot_ptr, client, outcome] {
        self->free_slot(*slot_ptr, client, outcome);
      });
      return channel;
    }
    return Channel();
  }

  // Frees `slot` if it still holds `expected_ticket` for `client`.
  void free_slot(ServerSlot& slot, std::uint64_t client, std::uint64_t expected_ticket) {
    if (expected_ticket != 0) {
      remove_connection(name_, ticket_id(expected_ticket), segment_options_);
      if (!slot.ticket.compare_exchange_strong(expected_ticket, 0, std::memory_order_acq_rel)) {
        return;  // the slot has moved on to another connection
      }
    }
    std::uint64_t expected = client;
    slot.client.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
  }

  void wake_connectors() {
    wake_sleepers(
        SleepWords{state_->connect_sleepers, state_->connect_signal, *registry_.waiters[1]},
        Server::k_max_connections);
  }

  std::string name_;
  ServerOptions options_;
  SegmentOptions segment_options_;
  std::size_t capacity_;
  SyncSegment registry_;
  ServerState* state_ = nullptr;
};

class ServerImpl {
 public:
  explicit ServerImpl(std::shared_ptr<ServerCore> core) noexcept : core(std::move(core)) {}
  // Shared with the on-close hooks of accepted connections, which free their
  // slots in the registry after the Server handle is gone.
  std::shared_ptr<ServerCore> core;
};

namespace {

template <typename Fn>
auto run(std::error_code* ec, Fn&& fn) {
  if (ec == nullptr) return throwing(std::forward<Fn>(fn));
  return without_throwing(*ec, std::forward<Fn>(fn));
}

ServerImpl* create_server(std::string_view name, const ServerOptions& options, Failure& failure) {
  if (!check_name(name, failure)) return nullptr;
  const std::size_t capacity = ring_capacity_for(options.capacity);
  if (capacity == 0) {
    failure.set(errc::invalid_size, "server " + quoted(std::string(name)) +
                                        ": a connection capacity of " +
                                        std::to_string(options.capacity) +
                                        " bytes is more than a ring can hold; ask for less");
    return nullptr;
  }
  auto core = std::make_shared<ServerCore>(std::string(name), options, capacity);
  if (!core->start(failure)) return nullptr;
  return new ServerImpl(std::move(core));
}

// The registry under `name`, if any; not_found is no failure.
SyncSegment find_registry(std::string_view name, const ServerOptions& options, Failure& failure) {
  if (!check_name(name, failure)) return {};
  SegmentOptions registry_options = segment_options_for(options);
  registry_options.reclaim_stale = false;
  SyncSegment registry =
      open_registry(std::string(name), registry_options, OpenMode::open, 0, failure);
  if (failure.code == make_error_code(errc::not_found)) failure.clear();
  return registry;
}

bool remove_server(std::string_view name_view, const ServerOptions& options, Failure& failure) {
  SyncSegment registry = find_registry(name_view, options, failure);
  if (failure || registry.state == nullptr) return false;
  const std::string name(name_view);
  ServerState& state = registry_state(registry);
  const std::uint64_t server = state.server.load(std::memory_order_acquire);
  if (endpoint_alive(server)) {
    failure.set(errc::role_taken, "server " + quoted(name) + " is running (pid " +
                                      std::to_string(server >> 32) +
                                      "); stop it instead of removing its name");
    return false;
  }
  const SegmentOptions segment_options = segment_options_for(options);
  for (ServerSlot& slot : state.slots) {
    const std::uint64_t seen = slot.ticket.load(std::memory_order_acquire);
    if (seen != 0) remove_connection(name, ticket_id(seen), segment_options);
  }
  registry = SyncSegment();
  return remove_sync_segment(name, segment_options, 2, failure);
}

bool server_exists(std::string_view name, const ServerOptions& options, Failure& failure) {
  SyncSegment registry = find_registry(name, options, failure);
  if (failure || registry.state == nullptr) return false;
  return endpoint_alive(registry_state(registry).server.load(std::memory_order_acquire));
}

}  // namespace

WaitHook wait_hook(const Server& server) {
  const ServerImpl* impl = WaitAccess::impl(server);
  return impl != nullptr ? impl->core->wait_hook() : WaitHook();
}

}  // namespace detail

using detail::Failure;

Server::Server(Server&& other) noexcept : impl_(other.impl_) {
  other.impl_ = nullptr;
}

Server& Server::operator=(Server&& other) noexcept {
  if (this != &other) {
    delete impl_;
    impl_ = other.impl_;
    other.impl_ = nullptr;
  }
  return *this;
}

Server::~Server() {
  delete impl_;
}

Server Server::create(std::string_view name, const ServerOptions& options) {
  Server server;
  server.impl_ =
      detail::throwing([&](Failure& f) { return detail::create_server(name, options, f); });
  return server;
}

Server Server::create(std::string_view name, const ServerOptions& options,
                      std::error_code& ec) noexcept {
  Server server;
  server.impl_ = detail::without_throwing(
      ec, [&](Failure& f) { return detail::create_server(name, options, f); });
  return server;
}

bool Server::remove(std::string_view name, const ServerOptions& options) {
  return detail::throwing([&](Failure& f) { return detail::remove_server(name, options, f); });
}

bool Server::remove(std::string_view name, const ServerOptions& options,
                    std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::remove_server(name, options, f); });
}

bool Server::exists(std::string_view name, const ServerOptions& options) {
  return detail::throwing([&](Failure& f) { return detail::server_exists(name, options, f); });
}

bool Server::exists(std::string_view name, const ServerOptions& options,
                    std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::server_exists(name, options, f); });
}

Channel Server::accept_at(Deadline deadline, std::error_code* ec) {
  return detail::run(ec, [&](Failure& f) {
    if (impl_ == nullptr) {
      f.set(errc::invalid_state,
            "accept on an empty Server handle (default-constructed or moved from); create the "
            "server first");
      return Channel();
    }
    return impl_->core->accept(deadline);
  });
}

const std::string& Server::name() const noexcept {
  static const std::string empty;
  return impl_ ? impl_->core->name() : empty;
}

std::size_t Server::capacity() const noexcept {
  return impl_ ? impl_->core->capacity() : 0;
}

SHMKIT_END_NAMESPACE
