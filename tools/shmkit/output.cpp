#include "output.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <utility>

namespace shmkit::cli {
namespace {

struct Civil {
  std::int64_t year;
  unsigned month, day, hour, minute, second, millisecond;
};

bool leap(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

// UTC calendar fields of a Unix time. Walking years and months is plenty
// fast for dates near now and needs no time-zone-aware C library call.
Civil to_civil(std::uint64_t unix_ns) {
  const std::uint64_t ms_total = unix_ns / 1000000u;
  std::uint64_t seconds = ms_total / 1000u;
  Civil c{1970, 1, 1, 0, 0, 0, static_cast<unsigned>(ms_total % 1000u)};
  std::uint64_t days = seconds / 86400u;
  seconds %= 86400u;
  c.hour = static_cast<unsigned>(seconds / 3600u);
  c.minute = static_cast<unsigned>(seconds / 60u % 60u);
  c.second = static_cast<unsigned>(seconds % 60u);
  while (days >= (leap(c.year) ? 366u : 365u)) {
    days -= leap(c.year) ? 366u : 365u;
    ++c.year;
  }
  static constexpr unsigned k_month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (unsigned m = 0; m < 12; ++m) {
    const unsigned length = k_month_days[m] + (m == 1 && leap(c.year) ? 1u : 0u);
    if (days < length) {
      c.month = m + 1;
      c.day = static_cast<unsigned>(days) + 1;
      break;
    }
    days -= length;
  }
  return c;
}

// The code point at text[at], and its length in bytes; 0 for a byte that
// does not start a valid UTF-8 sequence (overlong forms, surrogates and
// values past U+10FFFF included).
std::size_t decode_utf8(const std::string& text, std::size_t at, std::uint32_t& code) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) {
    code = lead;
    return 1;
  }
  std::size_t length = 0;
  std::uint32_t minimum = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    code = lead & 0x1fu;
    minimum = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    code = lead & 0x0fu;
    minimum = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    code = lead & 0x07u;
    minimum = 0x10000;
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char next = byte(at + i);
    if ((next & 0xc0u) != 0x80u) return 0;
    code = (code << 6) | (next & 0x3fu);
  }
  if (code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return length;
}

// Code points that change how a terminal shows what follows them: C0 and
// C1 controls, DEL, and the invisible format and bidirectional controls
// that can make one name look like another.
bool unsafe_code_point(std::uint32_t code) {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code == 0x061c ||
         (code >= 0x200b && code <= 0x200f) || (code >= 0x2028 && code <= 0x202e) ||
         (code >= 0x2060 && code <= 0x2069) || code == 0xfeff;
}

void append_byte_escape(std::string& out, unsigned char byte) {
  char escaped[8];
  std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
  out += escaped;
}

// The JSON string for `text` and whether every byte of it made it in: valid
// UTF-8 goes through (controls escaped as JSON asks, unsafe code points as
// \uXXXX, both undone by any JSON parser); a byte that is not valid UTF-8
// becomes U+FFFD, and then the caller must give the bytes some other way.
std::string json_string(const std::string& text, bool* exact = nullptr) {
  std::string out = "\"";
  bool lossless = true;
  for (std::size_t at = 0; at < text.size();) {
    std::uint32_t code = 0;
    const std::size_t length = decode_utf8(text, at, code);
    if (length == 0) {
      out += "\\ufffd";
      lossless = false;
      ++at;
      continue;
    }
    if (code == '"') {
      out += "\\\"";
    } else if (code == '\\') {
      out += "\\\\";
    } else if (code == '\n') {
      out += "\\n";
    } else if (code == '\t') {
      out += "\\t";
    } else if (code == '\r') {
      out += "\\r";
    } else if (unsafe_code_point(code)) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(code));
      out += escaped;
    } else {
      out.append(text, at, length);
    }
    at += length;
  }
  if (exact != nullptr) *exact = lossless;
  return out + "\"";
}

std::string hex_bytes(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    char pair[3];
    std::snprintf(pair, sizeof pair, "%02x", c);
    out += pair;
  }
  return out;
}

std::string number(std::uint64_t n) {
  return std::to_string(n);
}

// `text` with every byte a terminal could act on written as an escape that
// names the byte. With `names`, also the backslash (so that every escape
// can be undone) and the space (so that a name stays one column).
std::string escape_text(const std::string& text, bool names) {
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    std::uint32_t code = 0;
    const std::size_t length = decode_utf8(text, at, code);
    if (length == 0) {
      append_byte_escape(out, static_cast<unsigned char>(text[at]));
      ++at;
      continue;
    }
    if (code == '\\' && names) {
      out += "\\\\";
    } else if (code == '\n') {
      out += "\\n";
    } else if (code == '\t') {
      out += "\\t";
    } else if (code == '\r') {
      out += "\\r";
    } else if ((code == ' ' && names) || unsafe_code_point(code)) {
      for (std::size_t i = 0; i < length; ++i) {
        append_byte_escape(out, static_cast<unsigned char>(text[at + i]));
      }
    } else {
      out.append(text, at, length);
    }
    at += length;
  }
  return out;
}

// Columns on a terminal: one per code point (the cells are printable()).
std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0u) != 0x80u;
  }));
}

std::string octal_mode(std::uint32_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string hex_key(std::int32_t key) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", static_cast<unsigned>(key));
  return text;
}

std::string process(const AttachedProcess& p) {
  return number(p.pid) + (p.alive ? "" : "(dead)");
}

// At most `limit` processes, then "+N".
std::string process_list(const std::vector<AttachedProcess>& list, std::size_t limit) {
  if (list.empty()) return "-";
  std::string text;
  for (std::size_t i = 0; i < list.size() && i < limit; ++i) {
    if (!text.empty()) text += ",";
    text += process(list[i]);
  }
  if (list.size() > limit) text += ",+" + number(list.size() - limit);
  return text;
}

// How many processes map it, as far as the OS tells.
std::string mapped_count(const SegmentInfo& info) {
  if (info.mapped_by) return number(info.mapped_by->size());
  if (info.sysv) return number(info.sysv->attach_count);
  return "-";
}

bool has_header(const SegmentInfo& info) {
  return info.kind != ObjectKind::raw && info.kind != ObjectKind::symlink &&
         info.kind != ObjectKind::special && info.state != HeaderState::unreadable;
}

// Whether SegmentInfo::size is a size: the header's, or the OS's for a raw
// object. Not for an object whose header cannot be read, nor for a link.
bool size_known(const SegmentInfo& info) {
  if (info.kind == ObjectKind::raw) return true;
  switch (info.state) {
    case HeaderState::ready:
    case HeaderState::removing:
    case HeaderState::initializing:
      return info.size != 0;
    default:
      return false;
  }
}

// The STATE column: "-" where there is no state to tell.
std::string state_cell(const SegmentInfo& info) {
  return info.state == HeaderState::none ? "-" : to_string(info.state);
}

std::string json_process(const AttachedProcess& p) {
  return "{\"pid\": " + number(p.pid) + ", \"alive\": " + (p.alive ? "true" : "false") + "}";
}

std::string json_bool(bool b) {
  return b ? "true" : "false";
}

// The `topic` object of docs/cli.md.
std::string json_topic(const TopicStatus& t) {
  const TopicConfig& c = t.config;
  std::string o =
      "{\"sample_size\": " + number(c.sample_size) +
      ", \"sample_count\": " + number(c.sample_count) +
      ", \"max_publishers\": " + number(c.max_publishers) +
      ", \"max_subscribers\": " + number(c.max_subscribers) +
      ", \"max_queue_depth\": " + number(c.max_queue_depth) +
      ", \"history\": " + number(c.history) + ", \"type_id\": " + number(c.type_id) +
      ",\n        \"stride\": " + number(t.stride) + ", \"pool_bytes\": " + number(t.pool_bytes) +
      ", \"published\": " + number(t.published) + ", \"free_samples\": " + number(t.free_samples) +
      ", \"samples_in_use\": " + number(t.samples_in_use) + ", \"on_loan\": " + number(t.on_loan) +
      ", \"in_history\": " + number(t.in_history) + ",\n        \"lock\": " +
      (t.lock_held ? "{\"pid\": " + number(t.lock_pid) +
                         ", \"alive\": " + json_bool(t.lock_holder_alive) + "}"
                   : std::string("null"));
  o += ",\n        \"publishers\": [";
  for (std::size_t i = 0; i < t.publishers.size(); ++i) {
    const TopicPublisherStatus& p = t.publishers[i];
    o += std::string(i == 0 ? "" : ", ") + "{\"slot\": " + number(p.slot) +
         ", \"pid\": " + number(p.pid) + ", \"alive\": " + json_bool(p.alive) +
         ", \"generation\": " + number(p.generation) + ", \"loans\": " + number(p.loans) + "}";
  }
  o += "],\n        \"subscribers\": [";
  for (std::size_t i = 0; i < t.subscribers.size(); ++i) {
    const TopicSubscriberStatus& s = t.subscribers[i];
    o += std::string(i == 0 ? "" : ",\n          ") + "{\"slot\": " + number(s.slot) +
         ", \"pid\": " + number(s.pid) + ", \"alive\": " + json_bool(s.alive) +
         ", \"generation\": " + number(s.generation) + ", \"queued\": " + number(s.queued) +
         ", \"queue_depth\": " + number(s.queue_depth) +
         ", \"overflow\": " + json_string(to_string(s.overflow)) +
         ", \"dropped\": " + number(s.dropped) + ", \"held\": " + number(s.held) + "}";
  }
  return o + "]}";
}

std::string json_segment(const SegmentInfo& s, const std::optional<TopicStatus>& topic) {
  std::string o = "    {\n";
  auto field = [&](const char* key, const std::string& value, bool last = false) {
    o += std::string("      \"") + key + "\": " + value + (last ? "\n" : ",\n");
  };
  bool exact = true;
  field("name", s.name.empty() ? "null" : json_string(s.name, &exact));
  // A name that is not valid UTF-8 cannot be a JSON string: `name` shows it
  // with U+FFFD for each bad byte, and `name_hex` has every byte.
  field("name_hex", exact ? "null" : json_string(hex_bytes(s.name)));
  field("backend", json_string(to_string(s.backend)));
  field("scope", s.backend == Backend::win32
                     ? json_string(s.scope == Scope::global ? "global" : "local")
                     : "null");
  field("kind", json_string(to_string(s.kind)));
  field("state", json_string(to_string(s.state)));
  field("size", size_known(s) ? number(s.size) : "null");
  field("os_size", number(s.os_size));
  field("creator", s.creator.pid == 0 ? "null" : json_process(s.creator));
  std::string attached = "[";
  for (std::size_t i = 0; i < s.attached.size(); ++i) {
    attached += (i == 0 ? "" : ", ") + json_process(s.attached[i]);
  }
  field("attached", attached + "]");
  field("uncounted_attachers", number(s.uncounted_attachers));
  field("created_unix_ns", s.created_unix_ns == 0 ? "null" : number(s.created_unix_ns));
  field("created",
        s.created_unix_ns == 0 ? "null" : json_string(format_time_iso(s.created_unix_ns)));
  field("stale", s.stale ? "true" : "false");
  field("owner_uid", s.owner_uid ? number(*s.owner_uid) : "null");
  field("permissions", s.owner_uid ? json_string(octal_mode(s.permissions)) : "null");
  std::string mapped = "null";
  if (s.mapped_by) {
    mapped = "[";
    for (std::size_t i = 0; i < s.mapped_by->size(); ++i) {
      mapped += (i == 0 ? "" : ", ") + number((*s.mapped_by)[i]);
    }
    mapped += "]";
  }
  field("mapped_by", mapped);
  std::string sysv = "null";
  if (s.sysv) {
    const SysvDetails& d = *s.sysv;
    sysv = "{\"key\": " + json_string(hex_key(d.key)) + ", \"shmid\": " + std::to_string(d.shmid) +
           ", \"nattch\": " + number(d.attach_count) + ", \"cpid\": " + number(d.creator_pid) +
           ", \"lpid\": " + number(d.last_pid) +
           ", \"dest\": " + (d.marked_for_destruction ? "true" : "false") + "}";
  }
  field("sysv", sysv);
  field("topic", topic ? json_topic(*topic) : "null", true);
  return o + "    }";
}

}  // namespace

Table::Table(std::vector<std::string> headings, std::vector<bool> right_aligned)
    : right_(std::move(right_aligned)) {
  rows_.push_back(std::move(headings));
}

void Table::add(std::vector<std::string> row) {
  rows_.push_back(std::move(row));
}

void Table::print(std::FILE* out, const std::string& indent) const {
  std::vector<std::size_t> width(rows_.front().size(), 0);
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], display_width(row[i]));
    }
  }
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < width.size(); ++i) {
      const std::string& cell = i < row.size() ? row[i] : std::string();
      const std::string pad(width[i] - std::min(width[i], display_width(cell)), ' ');
      const bool right = i < right_.size() && right_[i] && &row != &rows_.front();
      line += right ? pad + cell : cell + (i + 1 < width.size() ? pad : "");
      if (i + 1 < width.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::fprintf(out, "%s%s\n", indent.c_str(), line.c_str());
  }
}

std::string format_time(std::uint64_t unix_ns) {
  if (unix_ns == 0) return "-";
  const Civil c = to_civil(unix_ns);
  char text[40];
  std::snprintf(text, sizeof text, "%04" PRId64 "-%02u-%02u %02u:%02u:%02u", c.year, c.month, c.day,
                c.hour, c.minute, c.second);
  return text;
}

std::string format_time_iso(std::uint64_t unix_ns) {
  const Civil c = to_civil(unix_ns);
  char text[40];
  std::snprintf(text, sizeof text, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%03uZ", c.year, c.month,
                c.day, c.hour, c.minute, c.second, c.millisecond);
  return text;
}

std::string printable(const std::string& name) {
  return escape_text(name, true);
}

std::string terminal_safe(const std::string& text) {
  return escape_text(text, false);
}

std::string display_name(const SegmentInfo& info) {
  if (!info.name.empty()) return printable(info.name);
  if (info.sysv) return "(key " + hex_key(info.sysv->key) + ")";
  return "-";
}

void print_table(const std::vector<SegmentInfo>& segments, std::FILE* out) {
  Table table({"NAME", "BACKEND", "KIND", "STATE", "SIZE", "CREATOR", "ATTACHED", "MAPPED",
               "CREATED (UTC)", "STALE"},
              {false, false, false, false, true, false, false, true, false, false});
  for (const auto& s : segments) {
    const bool header = has_header(s);
    table.add({display_name(s), to_string(s.backend), to_string(s.kind), state_cell(s),
               size_known(s) ? number(s.size) : "-", s.creator.pid == 0 ? "-" : process(s.creator),
               header ? process_list(s.attached, 3) : "-", mapped_count(s),
               format_time(s.created_unix_ns), header ? (s.stale ? "yes" : "no") : "-"});
  }
  table.print(out);
}

namespace {

std::string running(bool alive) {
  return alive ? "running" : "dead";
}

void print_topic(const TopicStatus& t, std::FILE* out) {
  auto line = [&](const char* key, const std::string& value) {
    std::fprintf(out, "%-12s %s\n", key, value.c_str());
  };
  const TopicConfig& c = t.config;
  line("config:", "samples of up to " + number(c.sample_size) + " bytes, " +
                      number(c.max_publishers) + " publishers, " + number(c.max_subscribers) +
                      " subscribers, queue depth " + number(c.max_queue_depth) + ", history " +
                      number(c.history) +
                      (c.type_id != 0 ? ", type id " + number(c.type_id) : std::string()));
  line("pool:", number(c.sample_count) + " samples of " + number(t.stride) + " bytes (" +
                    number(t.pool_bytes) + " bytes in '" + printable(t.name) + ".p')");
  line("samples:", number(t.samples_in_use) + " in use (" + number(t.on_loan) + " on loan, " +
                       number(t.in_history) + " kept for history), " + number(t.free_samples) +
                       " free");
  line("published:", number(t.published));
  if (t.lock_held) {
    line("lock:", "held by pid " + number(t.lock_pid) +
                      (t.lock_holder_alive ? " (running)"
                                           : " (dead: the next publisher or subscriber takes it "
                                             "over)"));
  }
  if (t.publishers.empty()) {
    line("publishers:", "none");
  } else {
    line("publishers:", number(t.publishers.size()));
    Table table({"SLOT", "PID", "STATE", "GENERATION", "LOANS"}, {true, true, false, true, true});
    for (const auto& p : t.publishers) {
      table.add(
          {number(p.slot), number(p.pid), running(p.alive), number(p.generation), number(p.loans)});
    }
    table.print(out, "  ");
  }
  if (t.subscribers.empty()) {
    line("subscribers:", "none");
  } else {
    line("subscribers:", number(t.subscribers.size()));
    Table table(
        {"SLOT", "PID", "STATE", "GENERATION", "QUEUED", "DEPTH", "POLICY", "DROPPED", "HELD"},
        {true, true, false, true, true, true, false, true, true});
    for (const auto& s : t.subscribers) {
      table.add({number(s.slot), number(s.pid), running(s.alive), number(s.generation),
                 number(s.queued), number(s.queue_depth), to_string(s.overflow), number(s.dropped),
                 number(s.held)});
    }
    table.print(out, "  ");
  }
}

}  // namespace

void print_details(const SegmentInfo& s, const std::optional<TopicStatus>& topic, std::FILE* out) {
  auto line = [&](const char* key, const std::string& value) {
    std::fprintf(out, "%-12s %s\n", key, value.c_str());
  };
  line("name:", display_name(s));
  std::string where = to_string(s.backend);
  if (s.backend == Backend::posix && !s.name.empty()) where += " (/" + printable(s.name) + ")";
  if (s.backend == Backend::win32) {
    where += std::string(" (") + (s.scope == Scope::global ? "Global\\" : "Local\\") +
             printable(s.name) + ")";
  }
  line("backend:", where);
  line("kind:", to_string(s.kind));
  line("state:", to_string(s.state));
  if (s.kind == ObjectKind::symlink) {
    line("note:",
         "a symbolic link under the name, never followed; it keeps the name from being "
         "created until `shmkit rm` removes the link (not its target)");
  } else if (s.kind == ObjectKind::special) {
    line("note:",
         "not a shared memory object (a FIFO, socket, device or directory); it keeps "
         "the name from being created");
  } else if (size_known(s)) {
    line("size:", number(s.size) + " bytes (the OS object: " + number(s.os_size) + " bytes)");
  } else {
    line("size:", std::string("unknown: ") +
                      (s.state == HeaderState::unreadable ? "its header cannot be read"
                                                          : "its header cannot be trusted") +
                      " (the OS object: " + number(s.os_size) + " bytes)");
  }
  if (s.state == HeaderState::blank) {
    line("note:",
         "all zero: a creator that died before writing its header, or another "
         "program's empty object; `shmkit rm` removes it, `clean` leaves it");
  }
  if (s.owner_uid)
    line("owner:", "uid " + number(*s.owner_uid) + ", mode " + octal_mode(s.permissions));
  if (s.creator.pid != 0) {
    line("creator:",
         "pid " + number(s.creator.pid) + (s.creator.alive ? " (running)" : " (exited)"));
  }
  if (s.created_unix_ns != 0) line("created:", format_time(s.created_unix_ns) + " UTC");
  if (has_header(s) && s.kind != ObjectKind::unknown) {
    std::string attached;
    for (const auto& p : s.attached) {
      attached +=
          (attached.empty() ? "" : ", ") + number(p.pid) + (p.alive ? " (running)" : " (exited)");
    }
    line("attached:", attached.empty() ? "none" : attached);
    if (s.uncounted_attachers != 0) {
      line("uncounted:",
           number(s.uncounted_attachers) + " more openers (the attach table was full)");
    }
  }
  if (s.mapped_by) {
    std::string pids;
    for (auto pid : *s.mapped_by) pids += (pids.empty() ? "" : ", ") + number(pid);
    line("mapped by:", pids.empty() ? "no process" : pids);
  }
  if (s.sysv) {
    const SysvDetails& d = *s.sysv;
    line("sysv:", "key " + hex_key(d.key) + ", shmid " + std::to_string(d.shmid) + ", nattch " +
                      number(d.attach_count) + ", cpid " + number(d.creator_pid) + ", lpid " +
                      number(d.last_pid) + (d.marked_for_destruction ? ", dest" : ""));
  }
  if (has_header(s)) line("stale:", s.stale ? "yes (shmkit clean removes it)" : "no");
  if (s.kind == ObjectKind::topic_pool && s.name.size() > 2) {
    line("note:", "the sample pool of topic '" + printable(s.name.substr(0, s.name.size() - 2)) +
                      "' (shmkit info shows the topic)");
  }
  if (topic) print_topic(*topic, out);
}

void print_json(const std::vector<SegmentInfo>& segments,
                const std::vector<std::optional<TopicStatus>>* topics, std::FILE* out) {
  std::string text = "{\n  \"version\": 1,\n  \"segments\": [";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const bool has_topic = topics != nullptr && i < topics->size();
    text += (i == 0 ? "\n" : ",\n") +
            json_segment(segments[i], has_topic ? (*topics)[i] : std::optional<TopicStatus>{});
  }
  text += segments.empty() ? "]\n}\n" : "\n  ]\n}\n";
  std::fputs(text.c_str(), out);
}

void print_hex(const unsigned char* bytes, std::size_t length, std::uint64_t first_offset,
               std::FILE* out) {
  constexpr std::size_t k_width = 16;
  bool squeezing = false;
  for (std::size_t at = 0; at < length; at += k_width) {
    const std::size_t n = std::min(k_width, length - at);
    if (at >= k_width && n == k_width &&
        std::memcmp(bytes + at, bytes + at - k_width, k_width) == 0) {
      if (!squeezing) std::fputs("*\n", out);
      squeezing = true;
      continue;
    }
    squeezing = false;
    char line[96];
    int used = std::snprintf(line, sizeof line, "%08" PRIx64 " ", first_offset + at);
    for (std::size_t i = 0; i < k_width; ++i) {
      if (i == 8) line[used++] = ' ';
      if (i < n) {
        used += std::snprintf(line + used, sizeof line - static_cast<std::size_t>(used), " %02x",
                              bytes[at + i]);
      } else {
        used += std::snprintf(line + used, sizeof line - static_cast<std::size_t>(used), "   ");
      }
    }
    line[used] = '\0';
    std::string ascii;
    for (std::size_t i = 0; i < n; ++i) {
      const unsigned char c = bytes[at + i];
      ascii += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
    }
    std::fprintf(out, "%s  |%s|\n", line, ascii.c_str());
  }
  std::fprintf(out, "%08" PRIx64 "\n", first_offset + length);
}

}  // namespace shmkit::cli
