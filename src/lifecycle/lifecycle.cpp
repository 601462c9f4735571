// Listing segments and removing stale ones. The protocol (mark, recheck,
// remove) and why it never removes a live segment are in docs/lifecycle.md.
#include <shmkit/lifecycle.hpp>

#include <shmkit/channel.hpp>
#include <shmkit/name.hpp>
#include <shmkit/named_event.hpp>
#include <shmkit/named_mutex.hpp>
#include <shmkit/named_semaphore.hpp>
#include <shmkit/named_shared_memory.hpp>
#include <shmkit/ring.hpp>

#include "core/error_wrappers.hpp"
#include "core/failure.hpp"
#include "core/name_check.hpp"
#include "lifecycle/lifecycle_internal.hpp"
#include "segment/segment_access.hpp"
#include "segment/segment_backend.hpp"
#include "segment/segment_header.hpp"
#include "sync/sync_segment.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>
#include <tuple>
#include <type_traits>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

static_assert(std::is_standard_layout_v<SegmentHeader>,
              "offsetof() reads header fields out of a byte copy");

constexpr auto k_ready = static_cast<std::uint32_t>(SegmentState::ready);
constexpr auto k_initializing = static_cast<std::uint32_t>(SegmentState::initializing);
constexpr auto k_removing = static_cast<std::uint32_t>(SegmentState::removing);

// A field of a header copy. The copy was taken once; reading it field by
// field cannot see two different versions of the segment.
template <typename T>
T field(const std::vector<unsigned char>& head, std::size_t offset) {
  T value{};
  std::memcpy(&value, head.data() + offset, sizeof value);
  return value;
}

ObjectKind to_object_kind(std::uint32_t kind) noexcept {
  switch (kind) {
    case static_cast<std::uint32_t>(SegmentKind::segment):
      return ObjectKind::segment;
    case static_cast<std::uint32_t>(SegmentKind::mutex):
      return ObjectKind::mutex;
    case static_cast<std::uint32_t>(SegmentKind::event):
      return ObjectKind::event;
    case static_cast<std::uint32_t>(SegmentKind::semaphore):
      return ObjectKind::semaphore;
    case static_cast<std::uint32_t>(SegmentKind::ring):
      return ObjectKind::ring;
    case static_cast<std::uint32_t>(SegmentKind::queue):
      return ObjectKind::queue;
    case static_cast<std::uint32_t>(SegmentKind::channel):
      return ObjectKind::channel;
    case static_cast<std::uint32_t>(SegmentKind::server):
      return ObjectKind::server;
    default:
      return ObjectKind::unknown;
  }
}

std::string stored_name(const char (&raw)[k_header_name_size]) {
  const char* end = std::find(raw, raw + k_header_name_size, '\0');
  if (end == raw + k_header_name_size) return {};  // not terminated: not a name
  return std::string(raw, end);
}

std::string stored_name(const std::vector<unsigned char>& head) {
  char raw[k_header_name_size];
  std::memcpy(raw, head.data() + offsetof(SegmentHeader, name), sizeof raw);
  return stored_name(raw);
}

// What a header copy says, judged without trusting any of it.
struct Parsed {
  SegmentInfo info;
  std::uint64_t creator_start = 0;
  std::vector<std::uint64_t> slots;  // non-zero attach entries
  bool judgeable = false;            // state and creator can be judged for staleness
};

bool all_zero(const std::vector<unsigned char>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](unsigned char b) { return b == 0; });
}

Parsed parse(const OsObject& object) {
  Parsed p;
  SegmentInfo& info = p.info;
  info.name = object.name;
  info.backend = object.backend;
  info.scope = object.scope;
  info.os_size = object.os_size;
  info.size = 0;  // unknown until a header or the OS says it
  info.owner_uid = object.owner_uid;
  info.permissions = object.permissions;
  info.mapped_by = object.mapped_by;
  info.sysv = object.sysv;
  if (object.entry != EntryType::object) {
    info.kind = object.entry == EntryType::symlink ? ObjectKind::symlink : ObjectKind::special;
    info.state = HeaderState::none;
    return p;
  }
  if (!object.readable) {
    info.kind = ObjectKind::unknown;
    info.state = HeaderState::unreadable;
    return p;
  }
  info.kind = ObjectKind::raw;
  info.state = HeaderState::none;
  info.size = object.os_size;
  const auto& head = object.head;
  if (all_zero(head)) {
    info.state = HeaderState::blank;
    return p;
  }
  if (head.size() < k_header_size || object.os_size < k_header_size) return p;
  if (field<std::uint64_t>(head, offsetof(SegmentHeader, magic)) != k_segment_magic) return p;

  // A shmkit header from here on, whatever else it says.
  info.kind = ObjectKind::unknown;
  info.state = HeaderState::incompatible;
  info.size = 0;
  const auto version = field<std::uint32_t>(head, offsetof(SegmentHeader, layout_version));
  const auto state = field<std::uint32_t>(head, offsetof(SegmentHeader, state));
  const auto creator_pid = field<std::uint64_t>(head, offsetof(SegmentHeader, creator_pid));
  p.creator_start = field<std::uint64_t>(head, offsetof(SegmentHeader, creator_start_time));
  const auto header_size = field<std::uint32_t>(head, offsetof(SegmentHeader, header_size));
  const auto capacity = field<std::uint32_t>(head, offsetof(SegmentHeader, attach_capacity));
  const auto data_size = field<std::uint64_t>(head, offsetof(SegmentHeader, data_size));
  const auto backend = field<std::uint32_t>(head, offsetof(SegmentHeader, backend));
  const std::string name = stored_name(head);
  const bool consistent = version == k_layout_version && header_size == k_header_size &&
                          capacity == k_attach_slots && data_size != 0 &&
                          data_size <= object.os_size - k_header_size &&
                          backend == static_cast<std::uint32_t>(object.backend) &&
                          is_valid_name(name) && name == object.name;
  if (state == k_initializing && !consistent) {
    // Builds before layout 1's stamped creation wrote the magic first and
    // the other fields after it: a creator that died there leaves them
    // half-written, and only its pid is worth reading.
    info.state = HeaderState::initializing;
    info.creator.pid = creator_pid;
    p.judgeable = creator_pid != 0;
    info.creator.alive = pid_may_exist(creator_pid);
    return p;
  }
  // An incompatible header names no creator: nothing in it can be believed.
  if (!consistent || (state != k_ready && state != k_removing && state != k_initializing)) {
    return p;
  }

  // A whole header. One still `initializing` was stamped by a creator that
  // wrote every field before the magic (release), so its kind, size and
  // creator are as good as a published header's: if the creator is gone it
  // will never be published, and it is judged like any other.
  info.state = state == k_ready      ? HeaderState::ready
               : state == k_removing ? HeaderState::removing
                                     : HeaderState::initializing;
  info.kind = to_object_kind(field<std::uint32_t>(head, offsetof(SegmentHeader, kind)));
  info.size = data_size;
  info.creator.pid = creator_pid;
  info.created_unix_ns = field<std::uint64_t>(head, offsetof(SegmentHeader, created_unix_ns));
  info.uncounted_attachers = field<std::uint64_t>(head, offsetof(SegmentHeader, attach_overflow));
  // A start time of 0 is no start time (a header copied while an older build
  // wrote it): the pid alone, erring towards alive.
  info.creator.alive = p.creator_start == 0
                           ? pid_may_exist(creator_pid)
                           : may_be_alive(creator_pid, p.creator_start, ~std::uint64_t{0});
  for (std::size_t i = 0; i < k_attach_slots; ++i) {
    const auto entry = field<std::uint64_t>(
        head, offsetof(SegmentHeader, attach) + i * sizeof(std::atomic<std::uint64_t>));
    if (entry == 0) continue;
    p.slots.push_back(entry);
    info.attached.push_back(
        {entry >> 32, may_be_alive(entry >> 32, entry, k_slot_start_time_mask)});
  }
  p.judgeable = creator_pid != 0;
  return p;
}

// Only shmkit's objects are listed without ListOptions::all.
bool is_shmkit_object(const SegmentInfo& info) {
  switch (info.kind) {
    case ObjectKind::raw:
    case ObjectKind::symlink:
    case ObjectKind::special:
      return false;
    default:
      return info.state != HeaderState::unreadable;
  }
}

// Stale as far as the header copy tells; the OS-level checks come after.
bool header_stale(const Parsed& p) {
  const SegmentInfo& info = p.info;
  if (!p.judgeable || info.uncounted_attachers != 0 || info.creator.alive) return false;
  return std::none_of(info.attached.begin(), info.attached.end(),
                      [](const AttachedProcess& a) { return a.alive; });
}

bool os_says_unused(const SegmentInfo& info) {
  if (info.sysv && (info.sysv->attach_count != 0 || info.sysv->marked_for_destruction)) {
    return false;
  }
  return !info.mapped_by || info.mapped_by->empty();
}

bool name_selected(const std::string& name, const ListQuery& query) {
  if (!query.exact.empty()) return name == query.exact;
  return name.compare(0, query.prefix.size(), query.prefix) == 0;
}

Backend resolve(Backend backend) noexcept {
  return backend == Backend::native ? native_backend() : backend;
}

// Lists one backend into `out`; parse + stale judgement included.
void collect(Backend backend, const ListQuery& query, bool all, std::vector<SegmentInfo>& out,
             Failure& failure) {
  std::vector<OsObject> objects;
  list_os_objects(backend, query, objects, failure);
  if (failure) return;
  std::vector<Parsed> parsed;
  std::vector<OsObject*> need_mappers;
  std::vector<std::size_t> need_mappers_at;
  for (auto& object : objects) {
    Parsed p = parse(object);
    if (!all && !is_shmkit_object(p.info)) continue;
    if (!name_selected(p.info.name, query)) continue;
    if (header_stale(p) && !object.mapped_by) {
      need_mappers.push_back(&object);
      need_mappers_at.push_back(parsed.size());
    }
    parsed.push_back(std::move(p));
  }
  // /proc is read only when some segment is stale by its header.
  if (!need_mappers.empty()) {
    find_mappers(need_mappers);
    for (std::size_t i = 0; i < need_mappers.size(); ++i) {
      parsed[need_mappers_at[i]].info.mapped_by = need_mappers[i]->mapped_by;
    }
  }
  for (auto& p : parsed) {
    p.info.stale = header_stale(p) && os_says_unused(p.info);
    // Looked up only to judge staleness: reported only when asked for.
    if (!query.find_mappers) p.info.mapped_by.reset();
    out.push_back(std::move(p.info));
  }
}

std::vector<SegmentInfo> list_impl(const ListOptions& options, Failure& failure) {
  std::vector<Backend> backends;
  const bool explicit_backends = !options.backends.empty();
  for (Backend b : explicit_backends ? options.backends : listable_backends()) {
    b = resolve(b);
    if (std::find(backends.begin(), backends.end(), b) == backends.end()) backends.push_back(b);
  }
  ListQuery query;
  query.prefix = options.name_prefix;
  query.find_mappers = options.find_mappers;
  query.scope = options.scope;
  std::vector<SegmentInfo> result;
  for (Backend b : backends) {
    if (explicit_backends && find_backend(b, failure) == nullptr) return {};
    Failure one;
    collect(b, query, options.all, result, one);
    // A backend this system cannot list is skipped unless it was asked for.
    if (one && explicit_backends) {
      failure = one;
      return {};
    }
  }
  std::sort(result.begin(), result.end(), [](const SegmentInfo& a, const SegmentInfo& b) {
    const int ak = a.sysv ? a.sysv->shmid : 0;
    const int bk = b.sysv ? b.sysv->shmid : 0;
    return std::tie(a.backend, a.name, ak) < std::tie(b.backend, b.name, bk);
  });
  return result;
}

SegmentInfo inspect_impl(std::string_view name_view, const Options& options, Failure& failure) {
  const std::string name(name_view);
  if (!check_name(name, failure)) return {};
  const Backend backend = resolve(options.backend);
  if (find_backend(backend, failure) == nullptr) return {};
  ListQuery query;
  query.exact = name;
  query.find_mappers = true;
  query.scope = options.scope;
  std::vector<SegmentInfo> found;
  collect(backend, query, true, found, failure);
  if (failure) return {};
  if (found.empty()) {
    failure.set(errc::not_found,
                "there is no segment " + quoted(name) + " (" + to_string(backend) + ")");
    return {};
  }
  return found.front();
}

// ---- removal ---------------------------------------------------------------

// Removes `name` with the function of its kind, so that an object takes the
// named OS objects it owns along (the portable path's wake-up semaphores).
bool remove_by_kind(const std::string& name, SegmentKind kind, const Options& options,
                    Failure& failure) {
  try {
    switch (kind) {
      case SegmentKind::mutex:
        return NamedMutex::remove(name, options);
      case SegmentKind::event:
        return NamedEvent::remove(name, options);
      case SegmentKind::semaphore:
        return NamedSemaphore::remove(name, options);
      case SegmentKind::ring:
        return Ring::remove(name, options);
      case SegmentKind::channel:
        return Channel::remove(name, options);
      case SegmentKind::queue:
      case SegmentKind::server: {
        // Queue<T> and Server remove on the native backend only, and
        // Server::remove refuses a live server; here any backend's object
        // goes. Both sleep on two waiters (src/messaging).
        Failure server;
        const bool removed = remove_sync_segment(name, options, 2, server);
        if (server) failure = server;
        return removed;
      }
      case SegmentKind::segment:
        break;
    }
    return NamedSharedMemory::remove(name, options);
  } catch (const std::system_error& e) {
    failure.set(e.code(), e.what());
  }
  return false;
}

bool process_may_be_alive(std::uint64_t packed) noexcept {
  return may_be_alive(packed >> 32, packed, k_slot_start_time_mask);
}

bool creator_may_be_alive(const SegmentHeader& h, bool initializing) {
  // A creator stamps its pid and start time before it stores the magic with
  // release ordering: seen through this acquire load, both are whole. A
  // header without the magic yet (or from a build that wrote the magic
  // first) is judged by the pid alone, which can only err towards "alive".
  const bool stamped = h.magic.load(std::memory_order_acquire) == k_segment_magic;
  const std::uint64_t pid = h.creator_pid;
  const std::uint64_t start = h.creator_start_time;
  if (pid == 0) return true;  // unknown: not ours to judge
  if ((initializing && !stamped) || start == 0) return pid_may_exist(pid);
  return may_be_alive(pid, start, ~std::uint64_t{0});
}

// Judged on the live mapping, with the loads the protocol needs: every load
// of a slot is seq_cst so that it cannot move before the mark.
bool stale_now(const SegmentHeader& h, Backend backend, const Mapping& m, bool initializing) {
  if (creator_may_be_alive(h, initializing)) return false;
  if (h.attach_overflow.load(std::memory_order_seq_cst) != 0) return false;
  for (const auto& slot : h.attach) {
    const std::uint64_t entry = slot.load(std::memory_order_seq_cst);
    if (entry != 0 && process_may_be_alive(entry)) return false;
  }
  return !used_by_others(backend, m);
}

// The mapping holds a shmkit header for `name` in some state; returns its
// kind, or nullopt for anything else. For an unpublished header only the
// magic can be trusted.
std::optional<SegmentKind> shmkit_kind(const Mapping& m, const std::string& name, Backend backend) {
  if (m.base == nullptr || m.length < k_header_size) return std::nullopt;
  const auto& h = *static_cast<const SegmentHeader*>(m.base);
  if (h.magic.load(std::memory_order_acquire) != k_segment_magic) return std::nullopt;
  const std::uint32_t state = h.state.load(std::memory_order_acquire);
  const std::uint32_t kind = h.kind;
  const bool known_kind = kind >= static_cast<std::uint32_t>(SegmentKind::segment) &&
                          kind <= static_cast<std::uint32_t>(SegmentKind::server);
  if (state == k_initializing) {
    return known_kind ? static_cast<SegmentKind>(kind) : SegmentKind::segment;
  }
  if (state != k_ready && state != k_removing) return std::nullopt;
  char raw[k_header_name_size];
  std::memcpy(raw, h.name, sizeof raw);
  const std::uint64_t data_size = h.data_size;
  if (h.layout_version != k_layout_version || h.header_size != k_header_size ||
      h.attach_capacity != k_attach_slots || data_size == 0 ||
      data_size > m.length - k_header_size || h.backend != static_cast<std::uint32_t>(backend) ||
      stored_name(raw) != name || !known_kind) {
    return std::nullopt;
  }
  return static_cast<SegmentKind>(kind);
}

// `name` of `backend` as a copy of its first bytes shows it: read with
// pread() (POSIX), never through a mapping that its owner could truncate
// under this process. False if this system cannot look it up that way (then
// the caller opens it instead); `found` stays empty if there is no such name.
bool look_up(const std::string& name, Backend backend, Scope scope, std::vector<Parsed>& found) {
  ListQuery query;
  query.exact = name;
  query.scope = scope;
  std::vector<OsObject> objects;
  Failure listing;
  list_os_objects(backend, query, objects, listing);
  if (listing) return false;
  for (const auto& object : objects) found.push_back(parse(object));
  return true;
}

bool remove_if_stale_impl(std::string_view name_view, const Options& options, Failure& failure) {
  const std::string name(name_view);
  if (!check_name(name, failure)) return false;
  SegmentBackend* backend = find_backend(options.backend, failure);
  if (backend == nullptr) return false;
  // The header copy first: an object whose creator or an attacher lives, or
  // that is not shmkit's, is left alone without ever being mapped. Only one
  // that looks stale is opened for the protocol below, which judges it again.
  std::vector<Parsed> copies;
  if (look_up(name, backend->id(), options.scope, copies)) {
    const bool candidate = std::any_of(copies.begin(), copies.end(), [&](const Parsed& p) {
      return p.info.name == name && is_shmkit_object(p.info) && header_stale(p);
    });
    if (!candidate) return false;
  }
  Options rw = options;
  rw.access = Access::read_write;
  rw.raw = false;
  rw.populate = false;
  Mapping m = backend->open(name, rw, failure);
  if (failure) {
    // Gone, or a creator still between create and sizing: nothing to judge.
    if (failure.code == make_error_code(errc::not_found) ||
        failure.code == make_error_code(errc::not_ready)) {
      failure.clear();
    }
    return false;
  }
  bool removed = false;
  if (const auto kind = shmkit_kind(m, name, backend->id())) {
    removed = settle_if_stale(*backend, name, m, *kind, rw, true, failure) == Settled::removed;
  }
  backend->close(m);
  return removed;
}

std::vector<SegmentInfo> remove_stale_impl(const ListOptions& options, Failure& failure) {
  ListOptions shmkit_only = options;
  shmkit_only.all = false;
  shmkit_only.find_mappers = false;
  std::vector<SegmentInfo> removed;
  for (auto& info : list_impl(shmkit_only, failure)) {
    if (!info.stale || info.backend == Backend::win32) continue;
    Options one;
    one.backend = info.backend;
    one.scope = info.scope;
    Failure skipped;  // another user's segment, or gone meanwhile
    if (remove_if_stale_impl(info.name, one, skipped)) removed.push_back(std::move(info));
  }
  return removed;
}

std::optional<SegmentKind> to_segment_kind(ObjectKind kind) noexcept {
  switch (kind) {
    case ObjectKind::segment:
      return SegmentKind::segment;
    case ObjectKind::mutex:
      return SegmentKind::mutex;
    case ObjectKind::event:
      return SegmentKind::event;
    case ObjectKind::semaphore:
      return SegmentKind::semaphore;
    case ObjectKind::ring:
      return SegmentKind::ring;
    case ObjectKind::queue:
      return SegmentKind::queue;
    case ObjectKind::channel:
      return SegmentKind::channel;
    case ObjectKind::server:
      return SegmentKind::server;
    default:
      return std::nullopt;
  }
}

void refuse_headerless(const std::string& name, Backend backend, Failure& failure) {
  failure.set(errc::incompatible_layout,
              "remove " + quoted(name) + " (" + to_string(backend) +
                  "): it has no shmkit header this version can read, so shmkit cannot tell what "
                  "owns it; pass Options::raw (shmkit rm --raw) to remove it anyway");
}

// Where the name cannot be looked up without opening it (macOS SysV, say):
// the header through a read-only mapping.
bool remove_object_by_mapping(const std::string& name, SegmentBackend& backend,
                              const Options& options, Failure& failure) {
  Options ro = options;
  ro.access = Access::read_only;
  ro.populate = false;
  Mapping m = backend.open(name, ro, failure);
  if (failure) {
    if (failure.code == make_error_code(errc::not_found)) failure.clear();
    return false;
  }
  const auto kind = shmkit_kind(m, name, backend.id());
  backend.close(m);
  if (!kind) {
    refuse_headerless(name, backend.id(), failure);
    return false;
  }
  Options by_kind = options;
  by_kind.backend = backend.id();
  return remove_by_kind(name, *kind, by_kind, failure);
}

bool remove_object_impl(std::string_view name_view, const Options& options, Failure& failure) {
  const std::string name(name_view);
  if (!check_name(name, failure)) return false;
  if (options.raw) return remove_by_kind(name, SegmentKind::segment, options, failure);
  SegmentBackend* backend = find_backend(options.backend, failure);
  if (backend == nullptr) return false;
  const Backend id = backend->id();
  std::vector<Parsed> found;
  if (!look_up(name, id, options.scope, found)) {
    return remove_object_by_mapping(name, *backend, options, failure);
  }
  if (found.empty()) return false;
  const SegmentInfo& info = found.front().info;
  Options by_kind = options;
  by_kind.backend = id;
  if (info.kind == ObjectKind::symlink || info.kind == ObjectKind::special) {
    // Planted under the name: remove the entry itself, never what a link
    // points to.
    return remove_os_entry(id, name, failure);
  }
  if (info.state == HeaderState::blank) {
    // Nothing in it: a creator that died before its first header write (or
    // another program's zero-filled object). Nothing can be lost by removing
    // it as raw, and nothing else can ever make it usable.
    by_kind.raw = true;
    return remove_by_kind(name, SegmentKind::segment, by_kind, failure);
  }
  if (info.state == HeaderState::unreadable) {
    // No permission to read it: opening it says so, with its owner.
    return remove_object_by_mapping(name, *backend, options, failure);
  }
  if (!info.name.empty() && info.name != name) {
    failure.set(errc::name_collision, "remove " + quoted(name) + " (" + to_string(id) +
                                          "): its SysV key belongs to " + quoted(info.name) +
                                          ", which hashes to the same key; not removed");
    return false;
  }
  if (const auto kind = to_segment_kind(info.kind)) {
    return remove_by_kind(name, *kind, by_kind, failure);
  }
  if (info.state == HeaderState::initializing) {
    // Half-written by an older build: its kind is not known yet.
    return remove_by_kind(name, SegmentKind::segment, by_kind, failure);
  }
  refuse_headerless(name, id, failure);
  return false;
}

}  // namespace

Settled settle_if_stale(SegmentBackend& backend, const std::string& name, const Mapping& m,
                        SegmentKind kind, const Options& options, bool remove, Failure& failure) {
  if (m.base == nullptr || m.length < k_header_size || options.access != Access::read_write) {
    return Settled::in_use;
  }
  auto& h = *static_cast<SegmentHeader*>(m.base);
  // The common case, a published segment whose creator runs, costs no
  // write to the shared header.
  if (h.state.load(std::memory_order_acquire) == k_ready &&
      (!remove || creator_may_be_alive(h, false))) {
    return Settled::in_use;
  }
  const std::uint64_t me = pack_slot(current_process());

  // The lock keeps removers apart; one that died is replaced, since a mark
  // is never left for the dead: the new holder either finishes the removal
  // or undoes it.
  std::uint64_t holder = 0;
  if (!h.remover.compare_exchange_strong(holder, me, std::memory_order_seq_cst)) {
    const bool marked = h.state.load(std::memory_order_seq_cst) == k_removing;
    if (holder == me || process_may_be_alive(holder)) {
      return marked ? Settled::busy : Settled::in_use;
    }
    if (!h.remover.compare_exchange_strong(holder, me, std::memory_order_seq_cst)) {
      return Settled::busy;
    }
  }
  auto unlock = [&] {
    std::uint64_t mine = me;
    h.remover.compare_exchange_strong(mine, 0, std::memory_order_seq_cst);
  };
  auto unmark = [&] {
    std::uint32_t removing = k_removing;
    h.state.compare_exchange_strong(removing, k_ready, std::memory_order_seq_cst);
  };

  const std::uint32_t state = h.state.load(std::memory_order_seq_cst);
  const Backend id = backend.id();
  SegmentKind removal_kind = kind;
  if (state == k_initializing) {
    // Never published, so the caller could not check its kind: a stamped
    // header knows it, and removing by it takes the named OS objects that
    // kind owns along.
    if (const auto stamped = shmkit_kind(m, name, id)) removal_kind = *stamped;
    // Never published, so nobody can have attached or ever will: no mark
    // is needed, only a creator that is certainly gone.
    if (!remove || !stale_now(h, id, m, true)) {
      unlock();
      return Settled::in_use;
    }
  } else if (state == k_ready || state == k_removing) {
    const bool marked = state == k_removing;
    if (!remove || !stale_now(h, id, m, false)) {
      if (marked) unmark();
      unlock();
      return Settled::in_use;
    }
    std::uint32_t expected = k_ready;
    if (!marked &&
        !h.state.compare_exchange_strong(expected, k_removing, std::memory_order_seq_cst)) {
      unlock();
      return Settled::in_use;
    }
    // The recheck after the mark: an opener that claimed its slot before
    // the mark is in the table now; one that claims after will see the mark.
    if (!stale_now(h, id, m, false)) {
      unmark();
      unlock();
      return Settled::in_use;
    }
  } else {
    unlock();
    return Settled::in_use;
  }

  if (!still_named(id, name, m)) {
    // Someone removed it and made a new one meanwhile; ours is out of reach
    // by name, and the new one is not ours to judge.
    return Settled::busy;
  }
  Options by_kind;
  by_kind.backend = id;
  by_kind.scope = options.scope;
  Failure removal;
  const bool removed = remove_by_kind(name, removal_kind, by_kind, removal);
  if (removal) {
    // Still there (no permission to remove it, say): usable again.
    unmark();
    unlock();
    failure = removal;
    return Settled::in_use;
  }
  return removed ? Settled::removed : Settled::busy;
}

Settled settle_if_stale(SegmentBackend& backend, const std::string& name, const Mapping& m,
                        SegmentKind kind, const Options& options, bool remove) noexcept {
  try {
    Failure ignored;
    return settle_if_stale(backend, name, m, kind, options, remove, ignored);
  } catch (...) {
    return Settled::in_use;
  }
}

}  // namespace detail

using detail::Failure;

std::vector<SegmentInfo> list_segments(const ListOptions& options) {
  return detail::throwing([&](Failure& f) { return detail::list_impl(options, f); });
}

std::vector<SegmentInfo> list_segments(const ListOptions& options, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) { return detail::list_impl(options, f); });
}

SegmentInfo inspect_segment(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) { return detail::inspect_impl(name, options, f); });
}

SegmentInfo inspect_segment(std::string_view name, const Options& options,
                            std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::inspect_impl(name, options, f); });
}

std::vector<SegmentInfo> remove_stale(const ListOptions& options) {
  return detail::throwing([&](Failure& f) { return detail::remove_stale_impl(options, f); });
}

std::vector<SegmentInfo> remove_stale(const ListOptions& options, std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::remove_stale_impl(options, f); });
}

bool remove_if_stale(std::string_view name, const Options& options) {
  return detail::throwing(
      [&](Failure& f) { return detail::remove_if_stale_impl(name, options, f); });
}

bool remove_if_stale(std::string_view name, const Options& options, std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::remove_if_stale_impl(name, options, f); });
}

bool remove_object(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) { return detail::remove_object_impl(name, options, f); });
}

bool remove_object(std::string_view name, const Options& options, std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::remove_object_impl(name, options, f); });
}

SHMKIT_END_NAMESPACE
