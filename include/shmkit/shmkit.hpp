// Everything shmkit offers, in one include.
#pragma once

#include <shmkit/attached_process.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/name.hpp>
#include <shmkit/named_shared_memory.hpp>
#include <shmkit/options.hpp>
