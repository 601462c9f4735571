// Named objects: a hash table (FNV-1a of the name, linear probing,
// tombstones) whose entries record the object's block, its type and its
// state. The state word is what makes construct and destroy crash
// consistent: an entry is written in full before its state says
// `constructing`, and repair frees every block whose entry a dead process
// left `constructing` or `destroying` (docs/managed.md).
#include "managed/directory.hpp"

#include <shmkit/errc.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

constexpr std::uint64_t k_entries_at = sizeof(DirectoryHeader);
constexpr std::uint64_t k_none = std::numeric_limits<std::uint64_t>::max();

constexpr std::uint64_t align_up(std::uint64_t n, std::uint64_t a) {
  return (n + a - 1) & ~(a - 1);
}

std::uint64_t name_hash(std::string_view name) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::uint64_t state_of(EntryState s) {
  return static_cast<std::uint64_t>(s);
}

// Word offsets of an entry's fields.
struct Entry {
  std::uint64_t at;
  std::uint64_t state() const { return at; }
  std::uint64_t hash() const { return at + 8; }
  std::uint64_t block() const { return at + 16; }
  std::uint64_t object() const { return at + 24; }
  std::uint64_t size() const { return at + 32; }
  std::uint64_t align() const { return at + 40; }
  std::uint64_t schema() const { return at + 48; }
  std::uint64_t name_length() const { return at + 56; }
};

Entry entry(std::uint64_t table, std::uint64_t index) {
  return {table + k_entries_at + index * sizeof(DirectoryEntry)};
}

std::string object_label(const Heap& heap, std::string_view name) {
  return "object " + quoted(std::string(name)) + " in managed segment " + quoted(heap.name());
}

// The table's payload offset (0: no table yet), validated; 0 with a
// failure when it is damaged.
std::uint64_t table_of(const Heap& heap, std::uint64_t& capacity, Failure& failure) {
  const std::uint64_t table = heap.header().directory.load(std::memory_order_acquire);
  capacity = 0;
  if (table == 0) return 0;
  const std::uint64_t block = table >= k_block_header ? table - k_block_header : 0;
  const std::uint64_t size = heap.block_size(block);
  if (size == 0 || !heap.block_allocated(block)) {
    heap.corrupt(failure, "the named-object directory at offset " + std::to_string(table) +
                              " is not an allocated block");
    return 0;
  }
  const std::uint64_t cap = heap.load(table + 8);
  if (heap.load(table) != k_directory_magic || cap < k_min_directory || cap > k_max_directory ||
      (cap & (cap - 1)) != 0 || k_entries_at + cap * sizeof(DirectoryEntry) > size - 16) {
    heap.corrupt(failure, "the named-object directory's header is damaged (capacity " +
                              std::to_string(cap) + ")");
    return 0;
  }
  capacity = cap;
  return table;
}

// An entry's fields, each read once from shared memory and checked: a peer
// may rewrite the entry at any time, so callers use only these copies.
struct SoundEntry {
  std::uint64_t block = 0;
  std::uint64_t object = 0;
  std::uint64_t length = 0;
  std::uint64_t size = 0;
  std::uint64_t align = 0;
  std::uint64_t schema = 0;
};

// Where an entry's object lies, checked against its block: false if any
// field points outside it; on true `out` holds the checked values.
bool entry_sound(const Heap& heap, Entry e, SoundEntry& out) {
  const std::uint64_t block = heap.load(e.block());
  const std::uint64_t word = heap.block_word(block);
  const std::uint64_t size = word & k_size_mask;
  if (size == 0 || (word & k_allocated_bit) == 0) return false;
  const std::uint64_t length = heap.load(e.name_length());
  const std::uint64_t object = heap.load(e.object());
  const std::uint64_t object_size = heap.load(e.size());
  const std::uint64_t align = heap.load(e.align());
  const std::uint64_t payload = block + k_block_header;
  const std::uint64_t block_end = block + size;
  if (length == 0 || length > k_max_object_name_length) return false;
  if (align == 0 || (align & (align - 1)) != 0 || align > k_max_alignment) return false;
  if (object < payload + length || object > block_end || object_size > block_end - object) {
    return false;
  }
  if (reinterpret_cast<std::uintptr_t>(heap.base() + object) % align != 0) return false;
  out = SoundEntry{block, object, length, object_size, align, heap.load(e.schema())};
  return true;
}

struct Probe {
  std::uint64_t found = k_none;  // the entry holding the name
  std::uint64_t slot = k_none;   // where to insert it
  SoundEntry sound;              // the found entry's checked fields
};

Probe probe(const Heap& heap, std::uint64_t table, std::uint64_t capacity, std::string_view name,
            std::uint64_t hash, Failure& failure) {
  Probe result;
  for (std::uint64_t n = 0; n < capacity; ++n) {
    const std::uint64_t index = (hash + n) & (capacity - 1);
    const Entry e = entry(table, index);
    const std::uint64_t state = heap.load(e.state());
    if (state == state_of(EntryState::empty)) {
      if (result.slot == k_none) result.slot = index;
      return result;
    }
    if (state == state_of(EntryState::tombstone)) {
      if (result.slot == k_none) result.slot = index;
      continue;
    }
    if (state > state_of(EntryState::tombstone)) {
      heap.corrupt(failure, "directory entry " + std::to_string(index) + " has state " +
                                std::to_string(state));
      return result;
    }
    if (heap.load(e.hash()) != hash) continue;
    SoundEntry sound;
    if (!entry_sound(heap, e, sound)) {
      heap.corrupt(failure,
                   "directory entry " + std::to_string(index) + " points outside its block");
      return result;
    }
    const std::uint64_t name_at = sound.block + k_block_header;
    if (sound.length == name.size() &&
        std::memcmp(heap.base() + name_at, name.data(), name.size()) == 0) {
      result.found = index;
      result.sound = sound;
      return result;
    }
  }
  return result;
}

void add_count(const Heap& heap, std::uint64_t table, std::uint64_t field, std::int64_t delta) {
  heap.store(table + field, heap.load(table + field) + static_cast<std::uint64_t>(delta));
}
constexpr std::uint64_t k_live = 16;
constexpr std::uint64_t k_used = 24;

// On the checked copies: the size compared is the one checked to fit.
bool same_type(const SoundEntry& sound, const ManagedType& type) {
  return sound.size == type.size && sound.align == type.align && sound.schema == type.schema_id;
}

bool type_mismatch(const Heap& heap, Entry e, std::string_view name, const ManagedType& type,
                   Failure& failure) {
  failure.set(errc::type_mismatch,
              object_label(heap, name) + " was constructed as a type of " +
                  std::to_string(heap.load(e.size())) + " bytes, alignment " +
                  std::to_string(heap.load(e.align())) + ", schema " +
                  std::to_string(heap.load(e.schema())) + "; this call asked for " +
                  std::to_string(type.size) + " bytes, alignment " + std::to_string(type.align) +
                  ", schema " + std::to_string(type.schema_id) +
                  ": use the type it was constructed with (ManagedTypeSchema)");
  return false;
}

// A table with room for one more entry: grown (or rebuilt without
// tombstones) into a new block, switched to with one store, the old one
// freed. The journal covers each step.
std::uint64_t grow(Heap& heap, std::uint64_t old_table, std::uint64_t old_capacity,
                   std::uint64_t& capacity, Failure& failure) {
  // Counted, not read from the cached figure: every entry must fit.
  std::uint64_t live = 0;
  for (std::uint64_t i = 0; i < old_capacity; ++i) {
    const std::uint64_t state = heap.load(entry(old_table, i).state());
    if (state != state_of(EntryState::empty) && state < state_of(EntryState::tombstone)) ++live;
  }
  std::uint64_t cap = k_min_directory;
  while ((live + 1) * 2 > cap) cap *= 2;
  if (cap > k_max_directory) {
    failure.set(errc::out_of_space, "managed segment " + quoted(heap.name()) +
                                        " holds the most named objects it can; destroy some");
    return 0;
  }
  HeapHeader& h = heap.header();
  h.journal_aux.store(old_table != 0 ? old_table - k_block_header : 0, std::memory_order_release);
  const std::uint64_t bytes = k_entries_at + cap * sizeof(DirectoryEntry);
  const std::uint64_t table =
      heap.carve(static_cast<std::size_t>(bytes), 16, JournalOp::grow_directory, failure);
  if (table == 0) return 0;
  std::memset(static_cast<void*>(heap.base() + table), 0, static_cast<std::size_t>(bytes));
  heap.store(table, k_directory_magic);
  heap.store(table + 8, cap);
  std::uint64_t count = 0;
  for (std::uint64_t i = 0; i < old_capacity; ++i) {
    const Entry from = entry(old_table, i);
    const std::uint64_t state = heap.load(from.state());
    if (state == state_of(EntryState::empty) || state >= state_of(EntryState::tombstone)) continue;
    std::uint64_t index = heap.load(from.hash()) & (cap - 1);
    while (heap.load(entry(table, index).state()) != state_of(EntryState::empty)) {
      index = (index + 1) & (cap - 1);
    }
    const Entry to = entry(table, index);
    for (std::uint64_t w = 8; w < sizeof(DirectoryEntry); w += 8) {
      heap.store(to.at + w, heap.load(from.at + w));
    }
    heap.store(to.state(), state);
    if (++count >= cap) break;
  }
  heap.store(table + k_live, count);
  heap.store(table + k_used, count);
  h.directory.store(table, std::memory_order_release);  // the switch
  if (old_table != 0) {
    if (!heap.release(old_table, failure)) return 0;
  } else {
    heap.clear_journal();
  }
  capacity = cap;
  return table;
}

// The entry of `name` whose block is `block` (after a nested operation may
// have moved the table).
Entry relocate(Heap& heap, std::string_view name, std::uint64_t block, Failure& failure,
               std::uint64_t& table) {
  std::uint64_t capacity = 0;
  table = table_of(heap, capacity, failure);
  if (table == 0) return {0};
  const Probe p = probe(heap, table, capacity, name, name_hash(name), failure);
  if (failure) return {0};
  if (p.found == k_none || p.sound.block != block) {
    heap.corrupt(failure, "the entry of " + object_label(heap, name) + " vanished while in use");
    return {0};
  }
  return entry(table, p.found);
}

}  // namespace

bool check_object_name(const Heap& heap, std::string_view name, Failure& failure) {
  if (name.empty() || name.size() > k_max_object_name_length ||
      name.find('\0') != std::string_view::npos) {
    failure.set(errc::invalid_name, "managed segment " + quoted(heap.name()) +
                                        ": an object name is 1-" +
                                        std::to_string(k_max_object_name_length) +
                                        " bytes without NUL; use a shorter name");
    return false;
  }
  return true;
}

void* named_lookup(Heap& heap, std::string_view name, const ManagedType& type, NamedMode mode,
                   NamedConstructor construct, void* context, Failure& failure) {
  if (!check_object_name(heap, name, failure)) return nullptr;
  const std::uint64_t hash = name_hash(name);
  std::uint64_t capacity = 0;
  std::uint64_t table = table_of(heap, capacity, failure);
  if (failure) return nullptr;
  Probe p;
  if (table != 0) {
    p = probe(heap, table, capacity, name, hash, failure);
    if (failure) return nullptr;
  }
  if (p.found != k_none) {
    const Entry e = entry(table, p.found);
    const bool ready = heap.load(e.state()) == state_of(EntryState::constructed);
    if (mode == NamedMode::construct || (!ready && mode == NamedMode::find_or_construct)) {
      failure.set(errc::already_exists,
                  object_label(heap, name) + " exists already; find it, or destroy it first");
      return nullptr;
    }
    if (!ready) return nullptr;  // a constructor on this thread is still building it
    if (!same_type(p.sound, type)) {
      type_mismatch(heap, e, name, type, failure);
      return nullptr;
    }
    return heap.base() + p.sound.object;
  }
  if (mode == NamedMode::find || construct == nullptr) return nullptr;

  const std::uint64_t align = type.align > k_granule ? type.align : k_granule;
  if (type.align == 0 || (type.align & (type.align - 1)) != 0 || align > k_max_alignment) {
    failure.set(errc::invalid_argument, object_label(heap, name) + ": alignment " +
                                            std::to_string(type.align) + " is over " +
                                            std::to_string(k_max_alignment));
    return nullptr;
  }
  if (table == 0 || (heap.load(table + k_used) + 1) * 4 > capacity * 3) {
    table = grow(heap, table, capacity, capacity, failure);
    if (table == 0) return nullptr;
    p = probe(heap, table, capacity, name, hash, failure);
    if (failure) return nullptr;
  }
  if (p.slot == k_none) {
    heap.corrupt(failure, "the named-object directory has no free entry");
    return nullptr;
  }
  const std::uint64_t name_room = align_up(name.size(), align);
  if (type.size > std::numeric_limits<std::size_t>::max() / 2) {
    failure.set(errc::invalid_size, object_label(heap, name) + " is too large");
    return nullptr;
  }
  const std::uint64_t payload =
      heap.carve(static_cast<std::size_t>(name_room + type.size), static_cast<std::size_t>(align),
                 JournalOp::allocate, failure);
  if (payload == 0) return nullptr;
  const std::uint64_t block = payload - k_block_header;
  const std::uint64_t object = payload + name_room;
  std::memcpy(heap.base() + payload, name.data(), name.size());
  const Entry e = entry(table, p.slot);
  const bool was_empty = heap.load(e.state()) == state_of(EntryState::empty);
  heap.store(e.hash(), hash);
  heap.store(e.block(), block);
  heap.store(e.object(), object);
  heap.store(e.size(), type.size);
  heap.store(e.align(), type.align);
  heap.store(e.schema(), type.schema_id);
  heap.store(e.name_length(), name.size());
  heap.store(e.state(), state_of(EntryState::constructing));  // now the entry owns the block
  if (was_empty) add_count(heap, table, k_used, 1);
  add_count(heap, table, k_live, 1);
  heap.clear_journal();
  void* where = heap.base() + object;
  try {
    construct(where, context);
  } catch (...) {
    Failure ignored;
    std::uint64_t now_table = 0;
    const Entry moved = relocate(heap, name, block, ignored, now_table);
    if (!ignored) {
      heap.store(moved.state(), state_of(EntryState::destroying));
      if (heap.release(payload, ignored)) {
        heap.store(moved.state(), state_of(EntryState::tombstone));
        add_count(heap, now_table, k_live, -1);
      }
    }
    throw;
  }
  std::uint64_t now_table = 0;
  const Entry moved = relocate(heap, name, block, failure, now_table);
  if (failure) return nullptr;
  heap.store(moved.state(), state_of(EntryState::constructed));
  return where;
}

bool named_destroy(Heap& heap, std::string_view name, const ManagedType& type,
                   NamedDestructor destroy, Failure& failure) {
  if (!check_object_name(heap, name, failure)) return false;
  std::uint64_t capacity = 0;
  std::uint64_t table = table_of(heap, capacity, failure);
  if (table == 0) return false;
  const Probe p = probe(heap, table, capacity, name, name_hash(name), failure);
  if (failure || p.found == k_none) return false;
  const Entry e = entry(table, p.found);
  if (heap.load(e.state()) != state_of(EntryState::constructed)) return false;
  if (!same_type(p.sound, type)) return type_mismatch(heap, e, name, type, failure);
  const std::uint64_t block = p.sound.block;
  heap.store(e.state(), state_of(EntryState::destroying));
  destroy(heap.base() + p.sound.object);
  const Entry moved = relocate(heap, name, block, failure, table);
  if (failure) return false;
  if (!heap.release(block + k_block_header, failure)) return false;
  heap.store(moved.state(), state_of(EntryState::tombstone));
  add_count(heap, table, k_live, -1);
  return true;
}

bool repair_directory(Heap& heap, Failure& failure) {
  std::uint64_t capacity = 0;
  const std::uint64_t table = table_of(heap, capacity, failure);
  if (table == 0) return !failure;
  std::uint64_t live = 0;
  std::uint64_t used = 0;
  for (std::uint64_t i = 0; i < capacity; ++i) {
    const Entry e = entry(table, i);
    const std::uint64_t state = heap.load(e.state());
    if (state == state_of(EntryState::constructing) || state == state_of(EntryState::destroying)) {
      // Its constructor never finished, or its destructor started: the
      // block goes (a half-built object's destructor cannot run).
      heap.mark_free_if_allocated(heap.load(e.block()));
      heap.store(e.state(), state_of(EntryState::tombstone));
    } else if (state > state_of(EntryState::tombstone)) {
      return heap.corrupt(
          failure, "directory entry " + std::to_string(i) + " has state " + std::to_string(state));
    }
    const std::uint64_t now = heap.load(e.state());
    if (now != state_of(EntryState::empty)) ++used;
    if (now == state_of(EntryState::constructed)) ++live;
  }
  heap.store(table + k_live, live);
  heap.store(table + k_used, used);
  return true;
}

void inspect_directory(const Heap& heap, const std::vector<std::uint64_t>& starts,
                       HeapCheck& result) {
  Failure failure;
  std::uint64_t capacity = 0;
  const std::uint64_t table = table_of(heap, capacity, failure);
  if (failure) {
    result.problem = failure.message;
    return;
  }
  if (table == 0) return;
  auto is_start = [&](std::uint64_t block) {
    return std::binary_search(starts.begin(), starts.end(), block);
  };
  if (!is_start(table - k_block_header)) {
    result.problem = "the named-object directory is not at a block the walk reaches";
    return;
  }
  std::uint64_t live = 0;
  for (std::uint64_t i = 0; i < capacity; ++i) {
    const Entry e = entry(table, i);
    const std::uint64_t state = heap.load(e.state());
    if (state == state_of(EntryState::empty) || state == state_of(EntryState::tombstone)) continue;
    if (state != state_of(EntryState::constructed)) {
      result.problem = "directory entry " + std::to_string(i) + " has state " +
                       std::to_string(state) + " (half-constructed or half-destroyed)";
      return;
    }
    SoundEntry sound;
    if (!entry_sound(heap, e, sound) || !is_start(sound.block)) {
      result.problem = "directory entry " + std::to_string(i) +
                       " points at no allocated block, or outside its block";
      return;
    }
    ++live;
  }
  result.named_objects = static_cast<std::size_t>(live);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
