// Removing an object by name, with the OS objects its kind owns.
#include "lifecycle/object_removal.hpp"

#include <shmkit/named_shared_memory.hpp>

#include "core/name_check.hpp"
#include "lifecycle/object_listing.hpp"
#include "lifecycle/staleness.hpp"
#include "messaging/ring_segment.hpp"
#include "messaging/topic_segment.hpp"
#include "segment/segment_backend.hpp"
#include "sync/sync_impl.hpp"
#include "sync/sync_segment.hpp"

#include <cstdint>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

bool remove_by_kind(const std::string& name, ObjectKind kind, const SegmentOptions& options,
                    Failure& failure) {
  try {
    switch (kind) {
      case ObjectKind::mutex:
      case ObjectKind::event:
      case ObjectKind::semaphore:
        // On the backend the caller names (SyncOptions has none).
        return remove_sync_object(name, options, failure);
      // Rings and channels by their segment options: a stale one may be on
      // any backend, which RingOptions and ChannelOptions do not name.
      case ObjectKind::ring:
        return remove_ring_segment(name, 1, options, failure);
      case ObjectKind::channel:
        return remove_ring_segment(name, 2, options, failure);
      case ObjectKind::queue:
      case ObjectKind::server: {
        // Queue<T> and Server remove on the native backend only, and
        // Server::remove refuses a live server; here any backend's object
        // goes. Both sleep on two waiters (src/messaging).
        Failure server;
        const bool removed = remove_sync_segment(name, options, 2, server);
        if (server) failure = server;
        return removed;
      }
      case ObjectKind::topic:
        // The control segment, its wake-ups and its pool "<name>.p".
        return remove_topic_segments(name, options, failure);
      default:
        break;
    }
    return NamedSharedMemory::remove(name, options);
  } catch (const std::system_error& e) {
    failure.set(e.code(), e.what());
  }
  return false;
}

namespace {

void refuse_headerless(const std::string& name, Backend backend, Failure& failure) {
  failure.set(errc::incompatible_layout,
              "remove " + quoted(name) + " (" + to_string(backend) +
                  "): it has no shmkit header this version can read, so shmkit cannot tell what "
                  "owns it; pass SegmentOptions::raw (shmkit rm --raw) to remove it anyway");
}

// Where the name cannot be looked up without opening it (macOS SysV, say):
// the header through a read-only mapping.
bool remove_object_by_mapping(const std::string& name, SegmentBackend& backend,
                              const SegmentOptions& options, Failure& failure) {
  SegmentOptions ro = options;
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
  SegmentOptions by_kind = options;
  by_kind.backend = backend.id();
  return remove_by_kind(name, *kind, by_kind, failure);
}

}  // namespace

bool remove_object_by_name(std::string_view name_view, const SegmentOptions& options,
                           Failure& failure) {
  const std::string name(name_view);
  if (!check_derived_name(name, failure)) return false;
  if (options.raw) return remove_by_kind(name, ObjectKind::segment, options, failure);
  SegmentBackend* backend = find_backend(options.backend, failure);
  if (backend == nullptr) return false;
  const Backend id = backend->id();
  std::vector<Parsed> found;
  if (!look_up(name, id, options.scope, found)) {
    return remove_object_by_mapping(name, *backend, options, failure);
  }
  if (found.empty()) return false;
  const SegmentInfo& info = found.front().info;
  SegmentOptions by_kind = options;
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
    return remove_by_kind(name, ObjectKind::segment, by_kind, failure);
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
  if (stored_kind(static_cast<std::uint32_t>(info.kind)) != ObjectKind::unknown) {
    return remove_by_kind(name, info.kind, by_kind, failure);
  }
  if (info.state == HeaderState::initializing) {
    // Half-written by an older build: its kind is not known yet.
    return remove_by_kind(name, ObjectKind::segment, by_kind, failure);
  }
  refuse_headerless(name, id, failure);
  return false;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
