#include "segment/segment_header.hpp"
#include <shmkit/config.hpp>

#include "segment/segment_access.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

std::uint64_t unix_time_ns() noexcept {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(
      duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count());
}

std::string describe_creator(const SegmentHeader& h) {
  const std::uint64_t pid = h.creator_pid;
  if (pid == 0) return "its creator is unknown";
  const bool alive = is_alive(pid, h.creator_start_time);
  return "its creator, pid " + std::to_string(pid) +
         (alive ? ", is still running" : ", has exited");
}

}  // namespace

void stamp_header(void* mapping, std::size_t data_size, Backend backend, ObjectKind kind,
                  const std::string& name) noexcept {
  auto* h = static_cast<SegmentHeader*>(mapping);
  const ProcessIdentity& self = current_process();
  h->layout_version = k_layout_version;
  h->header_size = static_cast<std::uint32_t>(k_header_size);
  h->data_size = data_size;
  h->backend = static_cast<std::uint32_t>(backend);
  h->kind = static_cast<std::uint32_t>(kind);
  h->attach_capacity = static_cast<std::uint32_t>(k_attach_slots);
  h->creator_pid = self.pid;
  h->creator_start_time = self.start_time;
  h->created_unix_ns = unix_time_ns();
  std::memset(h->name, 0, sizeof h->name);
  std::memcpy(h->name, name.data(), std::min(name.size(), sizeof h->name - 1));
  // The magic goes last: whoever sees it (acquire) also sees who is
  // creating the object, so a creator killed from here on leaves a leftover
  // that lifecycle tools can judge stale instead of an anonymous blank.
  h->magic.store(k_segment_magic, std::memory_order_release);
}

void publish_header(void* mapping) noexcept {
  auto* h = static_cast<SegmentHeader*>(mapping);
  // Openers read nothing but `state` until it says ready; this store is what
  // makes the header and the object's initial state visible to them.
  h->state.store(static_cast<std::uint32_t>(SegmentState::ready), std::memory_order_release);
}

HeaderFacts validate_header(const void* mapping, std::size_t mapping_length,
                            const std::string& name, Backend backend, ObjectKind kind,
                            std::chrono::steady_clock::time_point deadline, Failure& failure) {
  const std::string who = "segment " + quoted(name);
  if (mapping_length < k_header_size) {
    failure.set(errc::incompatible_layout,
                who + " is " + std::to_string(mapping_length) +
                    " bytes, too small for a shmkit header: it was not created by shmkit; open "
                    "it with SegmentOptions::raw");
    return {};
  }
  const auto& h = *static_cast<const SegmentHeader*>(mapping);

  // Wait for the creator to publish the header. Backing off from 50 us to
  // 2 ms keeps a normal race short without burning a core on a dead creator.
  auto pause = std::chrono::microseconds(50);
  for (;;) {
    const auto state = h.state.load(std::memory_order_acquire);
    if (state == static_cast<std::uint32_t>(SegmentState::ready)) break;
    const auto magic = h.magic.load(std::memory_order_relaxed);
    if (magic == k_segment_magic && state == static_cast<std::uint32_t>(SegmentState::removing)) {
      failure.set(errc::not_ready,
                  who +
                      " is being removed as stale (its creator and every process attached to it "
                      "have exited); try again, or create it anew with open_or_create");
      HeaderFacts facts;
      facts.removing = true;
      return facts;
    }
    const bool foreign = magic != 0 && magic != k_segment_magic;
    if (foreign || state != static_cast<std::uint32_t>(SegmentState::initializing)) {
      failure.set(errc::incompatible_layout,
                  who +
                      " does not start with a shmkit header: open it with SegmentOptions::raw, or "
                      "remove it if it is left over from something else");
      return {};
    }
    // A stamped header names its creator: once that process is gone the
    // header will never be published, so there is nothing to wait for.
    const bool creator_gone =
        magic == k_segment_magic && !is_alive(h.creator_pid, h.creator_start_time);
    if (creator_gone || std::chrono::steady_clock::now() >= deadline) {
      failure.set(errc::not_ready,
                  who + " was never made ready: " +
                      (magic == 0 ? std::string("its header is blank, so either its creator died "
                                                "while creating it or it is not a shmkit segment "
                                                "(then open it with SegmentOptions::raw)")
                                  : describe_creator(h) + " but never finished creating it") +
                      "; remove it and create it again");
      return {};
    }
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(2));
  }

  // Published: read each field once into a local, then judge the local, so a
  // concurrent scribbler cannot change a value between check and use.
  const std::uint64_t magic = h.magic.load(std::memory_order_relaxed);
  const std::uint32_t version = h.layout_version;
  const std::uint32_t header_size = h.header_size;
  const std::uint64_t data_size = h.data_size;
  const std::uint32_t header_backend = h.backend;
  const std::uint32_t capacity = h.attach_capacity;
  const std::uint32_t header_kind = h.kind;
  char header_name[k_header_name_size];
  std::memcpy(header_name, h.name, sizeof header_name);

  if (magic != k_segment_magic) {
    failure.set(errc::incompatible_layout,
                who +
                    " is not a shmkit segment (unknown magic number): open it with "
                    "SegmentOptions::raw");
    return {};
  }
  if (version != k_layout_version) {
    failure.set(errc::incompatible_layout,
                who + " has header layout version " + std::to_string(version) +
                    " but this shmkit reads version " + std::to_string(k_layout_version) +
                    ": use the same shmkit version in every process that shares it");
    return {};
  }
  const std::size_t capacity_for_data = mapping_length - k_header_size;
  if (header_size != k_header_size || capacity != k_attach_slots || data_size == 0 ||
      data_size > capacity_for_data) {
    failure.set(errc::corrupted, who + " has a corrupted header: it claims " +
                                     std::to_string(data_size) + " data bytes (header " +
                                     std::to_string(header_size) + ", " + std::to_string(capacity) +
                                     " attach slots) but the mapping holds " +
                                     std::to_string(capacity_for_data) +
                                     " after the header; remove it and create it again");
    return {};
  }
  if (header_backend != static_cast<std::uint32_t>(backend)) {
    failure.set(errc::corrupted, who + " has a header that names another backend (" +
                                     std::to_string(header_backend) +
                                     "); remove it and create it again");
    return {};
  }
  if (header_kind != static_cast<std::uint32_t>(kind)) {
    failure.set(errc::wrong_kind, "'" + name + "' is a " + kind_name(stored_kind(header_kind)) +
                                      ", not a " + kind_name(kind) +
                                      ": every shmkit object needs a name of its own");
    return {};
  }
  const std::size_t stored_length = static_cast<std::size_t>(
      std::find(header_name, header_name + sizeof header_name, '\0') - header_name);
  if (stored_length == sizeof header_name || std::string(header_name, stored_length) != name) {
    const std::string stored(header_name, std::min(stored_length, sizeof header_name - 1));
    if (backend == Backend::sysv) {
      failure.set(errc::name_collision,
                  who + " hashes to the same SysV key as the existing segment '" + stored +
                      "': choose another name, or use the posix backend");
    } else {
      failure.set(errc::corrupted,
                  who + " has a header that names '" + stored + "'; remove it and create it again");
    }
    return {};
  }
  return HeaderFacts{data_size};
}

int claim_attach_slot(void* mapping, std::uint64_t token) noexcept {
  auto& h = *static_cast<SegmentHeader*>(mapping);
  for (std::size_t i = 0; i < k_attach_slots; ++i) {
    std::uint64_t expected = 0;
    if (h.attach[i].compare_exchange_strong(expected, token, std::memory_order_seq_cst)) {
      return static_cast<int>(i);
    }
  }
  // Full: take over the slot of a process that died without closing.
  for (std::size_t i = 0; i < k_attach_slots; ++i) {
    std::uint64_t seen = h.attach[i].load(std::memory_order_acquire);
    if (seen != 0 && !is_alive(seen >> 32, seen, k_slot_start_time_mask) &&
        h.attach[i].compare_exchange_strong(seen, token, std::memory_order_seq_cst)) {
      return static_cast<int>(i);
    }
  }
  h.attach_overflow.fetch_add(1, std::memory_order_seq_cst);
  return -1;
}

bool attach_accepted(const void* mapping) noexcept {
  const auto& h = *static_cast<const SegmentHeader*>(mapping);
  // Must not move before the claim: store-then-load across two addresses
  // needs seq_cst on both sides (docs/lifecycle.md has the argument).
  return h.state.load(std::memory_order_seq_cst) !=
         static_cast<std::uint32_t>(SegmentState::removing);
}

void release_attach_slot(void* mapping, int slot, std::uint64_t token) noexcept {
  auto& h = *static_cast<SegmentHeader*>(mapping);
  if (slot < 0) {
    h.attach_overflow.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  if (static_cast<std::size_t>(slot) >= k_attach_slots) return;
  // Only clear our own entry: if another process judged us dead and took the
  // slot, it is theirs now.
  std::uint64_t expected = token;
  h.attach[slot].compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
}

std::vector<AttachedProcess> read_attach_table(const void* mapping) {
  const auto& h = *static_cast<const SegmentHeader*>(mapping);
  std::vector<AttachedProcess> result;
  for (std::size_t i = 0; i < k_attach_slots; ++i) {
    const std::uint64_t entry = h.attach[i].load(std::memory_order_acquire);
    if (entry == 0) continue;
    const std::uint64_t pid = entry >> 32;
    result.push_back({pid, is_alive(pid, entry, k_slot_start_time_mask)});
  }
  return result;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
