// Removing stale objects by the mark-then-recheck protocol
// (docs/lifecycle.md, "Removing a stale segment").
#include "lifecycle/stale_removal.hpp"

#include "core/name_check.hpp"
#include "lifecycle/lifecycle_internal.hpp"
#include "lifecycle/object_listing.hpp"
#include "lifecycle/object_removal.hpp"
#include "lifecycle/staleness.hpp"
#include "messaging/topic_layout.hpp"
#include "segment/segment_backend.hpp"
#include "segment/segment_header.hpp"

#include <algorithm>
#include <atomic>
#include <optional>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// The removal lock in the header keeps removers apart. One that died is
// replaced, since a mark is never left for the dead: the new holder either
// finishes the removal or undoes it. nullopt when this process holds the
// lock now; otherwise what the caller settles on.
std::optional<Settled> take_removal_lock(SegmentHeader& h, std::uint64_t me) {
  std::uint64_t holder = 0;
  if (h.remover.compare_exchange_strong(holder, me, std::memory_order_seq_cst)) {
    return std::nullopt;
  }
  const bool marked = h.state.load(std::memory_order_seq_cst) == k_removing;
  if (holder == me || process_may_be_alive(holder)) {
    return marked ? Settled::busy : Settled::in_use;
  }
  if (!h.remover.compare_exchange_strong(holder, me, std::memory_order_seq_cst)) {
    return Settled::busy;
  }
  return std::nullopt;
}

void release_removal_lock(SegmentHeader& h, std::uint64_t me) {
  h.remover.compare_exchange_strong(me, 0, std::memory_order_seq_cst);
}

// Undoes a mark: the object is usable again.
void unmark(SegmentHeader& h) {
  std::uint32_t removing = k_removing;
  h.state.compare_exchange_strong(removing, k_ready, std::memory_order_seq_cst);
}

// With the removal lock held: whether the object in `state` may go now. A
// published object is marked, then judged again; when it may not go, any
// mark is undone (the lock is the caller's to release).
bool claim_for_removal(SegmentHeader& h, std::uint32_t state, Backend id, const Mapping& m,
                       bool remove) {
  if (state == k_initializing) {
    // Never published, so nobody can have attached or ever will: no mark
    // is needed, only a creator that is certainly gone.
    return remove && stale_now(h, id, m, true);
  }
  if (state != k_ready && state != k_removing) return false;
  const bool marked = state == k_removing;
  if (!remove || !stale_now(h, id, m, false)) {
    if (marked) unmark(h);
    return false;
  }
  std::uint32_t expected = k_ready;
  if (!marked &&
      !h.state.compare_exchange_strong(expected, k_removing, std::memory_order_seq_cst)) {
    return false;
  }
  // The recheck after the mark: an opener that claimed its slot before the
  // mark is in the table now; one that claims after will see the mark.
  if (!stale_now(h, id, m, false)) {
    unmark(h);
    return false;
  }
  return true;
}

// With the object claimed: removes it by its kind. A removal that fails
// (no permission, say) leaves it usable again and reports why.
Settled remove_claimed(SegmentHeader& h, std::uint64_t me, Backend id, const std::string& name,
                       const Mapping& m, ObjectKind kind, const SegmentOptions& options,
                       Failure& failure) {
  if (!still_named(id, name, m)) {
    // Someone removed it and made a new one meanwhile; ours is out of reach
    // by name, and the new one is not ours to judge.
    return Settled::busy;
  }
  SegmentOptions by_kind;
  by_kind.backend = id;
  by_kind.scope = options.scope;
  Failure removal;
  const bool removed = remove_by_kind(name, kind, by_kind, removal);
  if (removal) {
    unmark(h);
    release_removal_lock(h, me);
    failure = removal;
    return Settled::in_use;
  }
  return removed ? Settled::removed : Settled::busy;
}

}  // namespace

bool pool_has_topic(SegmentBackend& backend, const std::string& pool_name,
                    const SegmentOptions& options) {
  const std::string suffix = k_topic_pool_suffix;
  if (pool_name.size() <= suffix.size() ||
      pool_name.compare(pool_name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  Failure ignored;
  // An error looking counts as "there is one": keeping a pool is harmless,
  // removing a live one is not.
  const bool exists =
      backend.exists(pool_name.substr(0, pool_name.size() - suffix.size()), options, ignored);
  return exists || ignored;
}

Settled settle_if_stale(SegmentBackend& backend, const std::string& name, const Mapping& m,
                        ObjectKind kind, const SegmentOptions& options, bool remove,
                        Failure& failure) {
  if (m.base == nullptr || m.length < k_header_size || options.access != Access::read_write) {
    return Settled::in_use;
  }
  if (kind == ObjectKind::topic_pool && pool_has_topic(backend, name, options)) {
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
  if (const auto settled = take_removal_lock(h, me)) return *settled;

  const std::uint32_t state = h.state.load(std::memory_order_seq_cst);
  const Backend id = backend.id();
  // Never published, so the caller could not check its kind: a stamped
  // header knows it, and removing by it takes the named OS objects that
  // kind owns along.
  if (state == k_initializing) {
    if (const auto stamped = shmkit_kind(m, name, id)) kind = *stamped;
  }
  if (!claim_for_removal(h, state, id, m, remove)) {
    release_removal_lock(h, me);
    return Settled::in_use;
  }
  return remove_claimed(h, me, id, name, m, kind, options, failure);
}

Settled settle_if_stale(SegmentBackend& backend, const std::string& name, const Mapping& m,
                        ObjectKind kind, const SegmentOptions& options, bool remove) noexcept {
  try {
    Failure ignored;
    return settle_if_stale(backend, name, m, kind, options, remove, ignored);
  } catch (...) {
    return Settled::in_use;
  }
}

bool remove_object_if_stale(std::string_view name_view, const SegmentOptions& options,
                            Failure& failure) {
  const std::string name(name_view);
  if (!check_derived_name(name, failure)) return false;
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
  SegmentOptions rw = options;
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

std::vector<SegmentInfo> remove_stale_objects(const ListOptions& options, Failure& failure) {
  ListOptions shmkit_only = options;
  shmkit_only.all = false;
  shmkit_only.find_mappers = false;
  std::vector<SegmentInfo> removed;
  for (auto& info : list_objects(shmkit_only, failure)) {
    if (!info.stale || info.backend == Backend::win32) continue;
    SegmentOptions one;
    one.backend = info.backend;
    one.scope = info.scope;
    Failure skipped;  // another user's segment, or gone meanwhile
    if (remove_object_if_stale(info.name, one, skipped)) removed.push_back(std::move(info));
  }
  return removed;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
