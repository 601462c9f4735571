#pragma once

#include <shmkit/config.hpp>

#include "core/failure.hpp"

#include <cstddef>
#include <string_view>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// The longest name any OS object shmkit makes may have, companions included.
inline constexpr std::size_t k_max_os_name_length = 30;

// Sets errc::invalid_name with the rule in the message; false if invalid.
bool check_name(std::string_view name, Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
