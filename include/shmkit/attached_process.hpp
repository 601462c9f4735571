#pragma once

#include <shmkit/config.hpp>

#include <cstdint>

SHMKIT_BEGIN_NAMESPACE

// One entry of a segment's attach table.
struct AttachedProcess {
  std::uint64_t pid = 0;
  // False when the process has exited, or when its pid now belongs to a
  // process started later (the table stores each process's start time).
  bool alive = false;
};

SHMKIT_END_NAMESPACE
