// Parsing a copy of an object's first bytes (docs/lifecycle.md).
#include "lifecycle/header_copy.hpp"

#include "core/name_check.hpp"

#include <shmkit/name.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

std::string stored_name(const char (&raw)[k_header_name_size]) {
  const char* end = std::find(raw, raw + k_header_name_size, '\0');
  if (end == raw + k_header_name_size) return {};  // not terminated: not a name
  return std::string(raw, end);
}

namespace {

static_assert(std::is_standard_layout_v<SegmentHeader>,
              "offsetof() reads header fields out of a byte copy");

// A field of a header copy. The copy was taken once; reading it field by
// field cannot see two different versions of the segment.
template <typename T>
T field(const std::vector<unsigned char>& head, std::size_t offset) {
  T value{};
  std::memcpy(&value, head.data() + offset, sizeof value);
  return value;
}

std::string stored_name_of(const std::vector<unsigned char>& head) {
  char raw[k_header_name_size];
  std::memcpy(raw, head.data() + offsetof(SegmentHeader, name), sizeof raw);
  return stored_name(raw);
}

bool all_zero(const std::vector<unsigned char>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](unsigned char b) { return b == 0; });
}

}  // namespace

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
  const std::string name = stored_name_of(head);
  const bool consistent = version == k_layout_version && header_size == k_header_size &&
                          capacity == k_attach_slots && data_size != 0 &&
                          data_size <= object.os_size - k_header_size &&
                          backend == static_cast<std::uint32_t>(object.backend) &&
                          is_valid_derived_name(name) && name == object.name;
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
  info.kind = stored_kind(field<std::uint32_t>(head, offsetof(SegmentHeader, kind)));
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

}  // namespace detail
SHMKIT_END_NAMESPACE
