// How the shmkit tool prints: aligned tables, JSON (schema in docs/cli.md),
// and hex dumps in the layout of `hexdump -C`.
#pragma once

#include <shmkit/segment_info.hpp>
#include <shmkit/topic_status.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace shmkit::cli {

// Columns padded to their widest cell; `right_aligned[i]` for numbers.
class Table {
 public:
  Table(std::vector<std::string> headings, std::vector<bool> right_aligned);
  void add(std::vector<std::string> row);
  // Each line starts with `indent`.
  void print(std::FILE* out, const std::string& indent = {}) const;

 private:
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
};

// "2025-06-01 10:00:00" (UTC), or "-" for 0.
std::string format_time(std::uint64_t unix_ns);
// "2025-06-01T10:00:00.123Z", the JSON form.
std::string format_time_iso(std::uint64_t unix_ns);

// A name as tables and messages show it. Anyone can name a file in /dev/shm,
// so a name may hold any byte: a backslash becomes \\, a newline, tab or
// carriage return \n, \t, \r, and a space, any other control character
// (C0, DEL, C1), an invisible format or bidirectional control, or a byte
// that is not valid UTF-8 becomes \xHH per byte. Every escape can be undone;
// other UTF-8 passes through. docs/cli.md shows examples.
std::string printable(const std::string& name);
// Any other text for the terminal (a message that may quote the OS): the
// escapes of printable(), except that spaces and backslashes stay.
std::string terminal_safe(const std::string& text);

// The NAME column: printable(name), or "(key 0x0001e240)" for a nameless
// SysV segment.
std::string display_name(const SegmentInfo& info);

// The `list` table.
void print_table(const std::vector<SegmentInfo>& segments, std::FILE* out);
// The `info` block for one segment; for a topic's control segment, what
// inspect_topic() read (`topic`), if it could.
void print_details(const SegmentInfo& info, const std::optional<TopicStatus>& topic,
                   std::FILE* out);
// {"version": 1, "segments": [...]}; a name that is not valid UTF-8 also
// comes as `name_hex` (docs/cli.md). `topics`, if given, has one entry per
// segment: the `topic` object of a topic that `info` read, else nullopt.
void print_json(const std::vector<SegmentInfo>& segments,
                const std::vector<std::optional<TopicStatus>>* topics, std::FILE* out);

// `bytes` as hexdump -C prints them, with offsets starting at `first_offset`;
// runs of identical lines collapse into "*".
void print_hex(const unsigned char* bytes, std::size_t length, std::uint64_t first_offset,
               std::FILE* out);

}  // namespace shmkit::cli
