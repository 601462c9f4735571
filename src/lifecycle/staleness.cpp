// Judging staleness (docs/lifecycle.md, "When is a segment stale").
#include "lifecycle/staleness.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

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

bool stale_now(const SegmentHeader& h, Backend backend, const Mapping& m, bool initializing) {
  if (creator_may_be_alive(h, initializing)) return false;
  if (h.attach_overflow.load(std::memory_order_seq_cst) != 0) return false;
  for (const auto& slot : h.attach) {
    const std::uint64_t entry = slot.load(std::memory_order_seq_cst);
    if (entry != 0 && process_may_be_alive(entry)) return false;
  }
  return !used_by_others(backend, m);
}

std::optional<ObjectKind> shmkit_kind(const Mapping& m, const std::string& name, Backend backend) {
  if (m.base == nullptr || m.length < k_header_size) return std::nullopt;
  const auto& h = *static_cast<const SegmentHeader*>(m.base);
  if (h.magic.load(std::memory_order_acquire) != k_segment_magic) return std::nullopt;
  const std::uint32_t state = h.state.load(std::memory_order_acquire);
  const std::uint32_t kind = h.kind;
  const bool known_kind = stored_kind(kind) != ObjectKind::unknown;
  if (state == k_initializing) return known_kind ? stored_kind(kind) : ObjectKind::segment;
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
  return stored_kind(kind);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
