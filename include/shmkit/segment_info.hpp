// What shmkit can tell about a named segment from the outside, without
// attaching to it: the answer of list_segments() and of `shmkit list`.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/attached_process.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

SHMKIT_BEGIN_NAMESPACE

// What a named object is: the one enum for kinds of objects, used by the
// lifecycle API, the CLI and every segment's header. The numbers of segment
// ... server are written into each segment's header by its creator, so they
// never change; new kinds get new numbers at the end.
enum class ObjectKind : std::uint8_t {
  raw = 0,  // no shmkit header: made by another program, or with SegmentOptions::raw
  segment = 1,
  mutex = 2,
  event = 3,
  semaphore = 4,
  ring = 5,
  queue = 6,
  channel = 7,
  server = 8,
  unknown = 9,  // a header this version cannot read, or a segment it may not read
  // Not a shared memory object at all, but an entry that takes the name
  // (POSIX, /dev/shm): anyone may plant one there. Never followed or opened.
  symlink = 10,     // a symbolic link; shm_open refuses it, so it blocks the name
  special = 11,     // a FIFO, socket, device or directory
  topic = 12,       // a Topic's control segment "<name>": slots, queues, reference counts
  topic_pool = 13,  // a Topic's sample pool "<name>.p"
  managed = 14,     // a ManagedSegment: a heap and named objects
};

// Where a segment's header says it is in its life.
enum class HeaderState : std::uint8_t {
  none,          // no shmkit header
  unreadable,    // no permission to read it
  initializing,  // its creator has not finished (or died doing so)
  ready,
  removing,      // a process found it stale and is removing it
  incompatible,  // another shmkit layout version, or a header that contradicts itself
  // No header and nothing else either: every byte read is zero, or the
  // object has no size. A shmkit creator killed between making the OS object
  // and writing the first bytes of its header (a window of microseconds)
  // leaves this; so does another program's zero-filled object. Kind `raw`.
  blank,
};

// SysV details, as `ipcs -m -p` shows them.
struct SysvDetails {
  std::int32_t key = 0;
  std::int32_t shmid = -1;
  std::uint64_t attach_count = 0;  // nattch: processes attached now, as the kernel counts
  std::uint64_t creator_pid = 0;   // cpid
  std::uint64_t last_pid = 0;      // lpid: the last shmat/shmdt (listing attaches too)
  // "dest": removed already, freed when the last process detaches.
  bool marked_for_destruction = false;
};

struct SegmentInfo {
  // The shmkit name. Empty for a SysV segment without a shmkit header, which
  // has only a key (see `sysv`). What ListOptions::all adds is named by
  // whoever made it: any bytes but '/' and NUL, valid UTF-8 or not, control
  // characters included. Escape it before printing it (`shmkit` does).
  std::string name;
  Backend backend = Backend::native;
  Scope scope = Scope::local;  // Win32
  ObjectKind kind = ObjectKind::unknown;
  HeaderState state = HeaderState::none;
  // Exactly what the creator asked for, from the header; what the OS
  // reports for a raw segment. 0 when unknown: a header that cannot be read
  // (state unreadable or incompatible) or something that is not an object
  // (kind symlink or special); os_size still says what the OS reports.
  std::uint64_t size = 0;
  // What the OS object occupies: header included, whole pages on Win32.
  std::uint64_t os_size = 0;
  // Who created it (pid 0: unknown, as for a raw segment).
  AttachedProcess creator;
  // The attach table: processes that opened it read-write, dead or alive.
  std::vector<AttachedProcess> attached;
  // Openers that found the attach table full: alive or not, nobody can tell.
  std::uint64_t uncounted_attachers = 0;
  std::uint64_t created_unix_ns = 0;  // from the header; 0 when unknown
  // The creator and every attached process have exited, and (where the OS
  // can tell) no process maps it: remove_stale() would remove it. Never true
  // for a raw or foreign segment.
  bool stale = false;
  // POSIX: the owner's uid and the mode bits; nullopt where there are none.
  std::optional<std::uint32_t> owner_uid;
  std::uint32_t permissions = 0;
  // Linux: the processes that have it mapped (from /proc/*/maps, as lsof
  // finds them), when ListOptions::find_mappers asked for it and the OS can
  // tell. Processes of other users are only visible to root.
  std::optional<std::vector<std::uint64_t>> mapped_by;
  std::optional<SysvDetails> sysv;  // the sysv backend only
};

// "raw", "segment", "mutex", ..., "unknown", "symlink", "special", "topic",
// "topic_pool" and "managed".
constexpr const char* to_string(ObjectKind kind) noexcept {
  switch (kind) {
    case ObjectKind::raw:
      return "raw";
    case ObjectKind::segment:
      return "segment";
    case ObjectKind::mutex:
      return "mutex";
    case ObjectKind::event:
      return "event";
    case ObjectKind::semaphore:
      return "semaphore";
    case ObjectKind::ring:
      return "ring";
    case ObjectKind::queue:
      return "queue";
    case ObjectKind::channel:
      return "channel";
    case ObjectKind::server:
      return "server";
    case ObjectKind::topic:
      return "topic";
    case ObjectKind::topic_pool:
      return "topic_pool";
    case ObjectKind::managed:
      return "managed";
    case ObjectKind::symlink:
      return "symlink";
    case ObjectKind::special:
      return "special";
    case ObjectKind::unknown:
      break;
  }
  return "unknown";
}

constexpr const char* to_string(HeaderState state) noexcept {
  switch (state) {
    case HeaderState::none:
      return "none";
    case HeaderState::unreadable:
      return "unreadable";
    case HeaderState::initializing:
      return "initializing";
    case HeaderState::ready:
      return "ready";
    case HeaderState::removing:
      return "removing";
    case HeaderState::incompatible:
      return "incompatible";
    case HeaderState::blank:
      return "blank";
  }
  return "incompatible";
}

SHMKIT_END_NAMESPACE
