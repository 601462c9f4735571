// Ring: a single-producer single-consumer ring of variable-length messages
// in one named segment, zero-copy on both sides. Its two ends are distinct
// types, so a call the end cannot make does not compile.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/ring_consumer.hpp>
#include <shmkit/ring_options.hpp>
#include <shmkit/ring_producer.hpp>
