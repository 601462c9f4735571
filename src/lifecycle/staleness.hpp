// Whether an object is stale: judged first on a copy of its header (cheap,
// read-only), then on the live mapping with the loads the removal protocol
// needs (docs/lifecycle.md).
#pragma once

#include "lifecycle/header_copy.hpp"
#include "segment/segment_backend.hpp"
#include "segment/segment_header.hpp"

#include <shmkit/segment_info.hpp>

#include <cstdint>
#include <optional>
#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// ---- on a copy -------------------------------------------------------------

// Only shmkit's objects are listed without ListOptions::all.
bool is_shmkit_object(const SegmentInfo& info);

// Stale as far as the header copy tells; the OS-level checks come after.
bool header_stale(const Parsed& p);

// No process maps it, as far as the OS tells (SysV nattch, Linux /proc).
bool os_says_unused(const SegmentInfo& info);

// ---- on the live mapping -----------------------------------------------------

// An attach-table entry's process, erring towards "alive".
bool process_may_be_alive(std::uint64_t packed) noexcept;

// The header's creator, erring towards "alive" (see the definition).
bool creator_may_be_alive(const SegmentHeader& h, bool initializing);

// The creator and every attacher are gone and no other process maps it.
// Every load of a slot is seq_cst so that it cannot move before the mark.
bool stale_now(const SegmentHeader& h, Backend backend, const Mapping& m, bool initializing);

// The mapping holds a shmkit header for `name` in some state; returns its
// kind, or nullopt for anything else. For an unpublished header only the
// magic can be trusted.
std::optional<ObjectKind> shmkit_kind(const Mapping& m, const std::string& name, Backend backend);

}  // namespace detail
SHMKIT_END_NAMESPACE
