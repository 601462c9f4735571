#pragma once

#include <cstdint>

namespace shmkit {

// One entry of a segment's attach table.
struct AttachedProcess {
  std::uint64_t pid = 0;
  // False when the process has exited, or when its pid now belongs to a
  // process started later (the table stores each process's start time).
  bool alive = false;
};

}  // namespace shmkit
