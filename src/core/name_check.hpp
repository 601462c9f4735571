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

// For a name shmkit derived from a checked one (a server's connection
// "<server>.<id>"): the same characters, up to k_max_os_name_length - 2 (room
// for the "<name>.N" wake-up companions). Internal layers check with this;
// the user's k_max_name_length is checked once, by each public entry.
bool check_derived_name(std::string_view name, Failure& failure);
bool is_valid_derived_name(std::string_view name) noexcept;

}  // namespace detail
SHMKIT_END_NAMESPACE
