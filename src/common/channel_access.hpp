#pragma once

#include "failure.hpp"
#include "segment_access.hpp"

#include <shmkit/channel.hpp>

#include <functional>

namespace shmkit::detail {

// Which end of a channel: the creator sends on ring 0, the opener on ring 1.
enum class ChannelEnd { creator, opener };

struct ChannelAccess {
  static Channel open(std::string_view name, std::size_t capacity, const WaitOptions& wait,
                      const Options& options, OpenMode mode, ChannelEnd end, Failure& failure);
  // Makes `cleanup` run once `channel` and all its moved-to handles are gone.
  static void on_close(Channel& channel, std::function<void()> cleanup);
};

}  // namespace shmkit::detail
