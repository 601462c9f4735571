#include "messaging/ring_segment.hpp"

#include "core/name_check.hpp"

#include <shmkit/name.hpp>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

constexpr std::uint32_t k_ring_layout = 0x524e4732;     // "RNG2": records carry generations
constexpr std::uint32_t k_channel_layout = 0x43484e32;  // "CHN2"

// The state starts 8 bytes into the 64-byte aligned data (after the sync
// preamble); the first control block starts on the next cache line.
constexpr std::size_t k_rings_offset = 64 - sizeof(SyncPreamble);

struct RingInit {
  std::size_t ring_count;
  std::size_t capacity;
};

void initialize_rings(void* state, const void* context, Failure&) {
  const auto& init = *static_cast<const RingInit*>(context);
  auto* at = static_cast<std::byte*>(state) + k_rings_offset;
  for (std::size_t i = 0; i < init.ring_count; ++i) {
    initialize_ring(*new (at) RingShared{}, init.capacity);
    at += ring_footprint(init.capacity);
  }
}

}  // namespace

bool check_ring_name(std::string_view name, const char* what, Failure& failure) {
  // k_max_name_length leaves room for the '<name>.N' companions.
  static_assert(k_max_name_length + 2 <= detail::k_max_os_name_length);
  (void)what;
  return check_name(name, failure);
}

RingSegment open_ring_segment(const std::string& name, ObjectKind kind, std::size_t ring_count,
                              std::size_t capacity, OpenMode mode, const SegmentOptions& options,
                              Failure& failure) {
  RingSegment result;
  result.kind = kind;
  const std::string what = std::string(kind_name(kind)) + " " + quoted(name);
  std::size_t state_size = 0;
  RingInit init{ring_count, 0};
  if (mode != OpenMode::open) {
    init.capacity = ring_capacity_for(capacity);
    if (init.capacity == 0) {
      failure.set(errc::invalid_size, what + ": a capacity of " + std::to_string(capacity) +
                                          " bytes is more than a ring can hold");
      return result;
    }
    state_size = k_rings_offset + ring_count * ring_footprint(init.capacity);
  }
  const SyncRequest request{
      kind,       kind == ObjectKind::channel ? k_channel_layout : k_ring_layout,
      state_size, static_cast<unsigned>(2 * ring_count),
      false,      &initialize_rings,
      &init};
  result.sync = open_sync_segment(name, options, mode, request, failure);
  if (failure) {
    if (failure.code == make_error_code(errc::size_mismatch)) {
      failure.set(errc::size_mismatch, what + " exists with another capacity than the " +
                                           std::to_string(init.capacity) +
                                           " bytes requested; open it without a capacity");
    }
    return result;
  }
  // Whoever created it, read the layout back from the segment and check it.
  std::size_t available = result.sync.state_size;
  if (available < k_rings_offset) {
    failure.set(errc::corrupted, what + " is too small to hold a ring");
    return result;
  }
  available -= k_rings_offset;
  auto* at = static_cast<std::byte*>(result.sync.state) + k_rings_offset;
  for (std::size_t i = 0; i < ring_count; ++i) {
    if (available < sizeof(RingShared)) {
      failure.set(errc::corrupted, what + " is too small for its rings");
      return result;
    }
    auto* shared = reinterpret_cast<RingShared*>(at);
    const std::size_t found = validate_ring(*shared, available, what, failure);
    if (failure) return result;
    if (i > 0 && found != result.capacity) {
      failure.set(errc::corrupted, what + ": its two rings claim different capacities");
      return result;
    }
    result.capacity = found;
    result.rings[i] = shared;
    at += ring_footprint(found);
    available -= ring_footprint(found);
  }
  return result;
}

bool remove_ring_segment(const std::string& name, std::size_t ring_count,
                         const SegmentOptions& options, Failure& failure) {
  return remove_sync_segment(name, options, static_cast<unsigned>(2 * ring_count), failure);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
