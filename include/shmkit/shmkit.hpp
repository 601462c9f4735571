// Everything shmkit offers, in one include.
#pragma once

#include <shmkit/attached_process.hpp>
#include <shmkit/byte_span.hpp>
#include <shmkit/channel.hpp>
#include <shmkit/client.hpp>
#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/error.hpp>
#include <shmkit/lifecycle.hpp>
#include <shmkit/name.hpp>
#include <shmkit/named_event.hpp>
#include <shmkit/named_mutex.hpp>
#include <shmkit/named_semaphore.hpp>
#include <shmkit/named_shared_memory.hpp>
#include <shmkit/offset_ptr.hpp>
#include <shmkit/options.hpp>
#include <shmkit/process_condition.hpp>
#include <shmkit/process_mutex.hpp>
#include <shmkit/queue.hpp>
#include <shmkit/ring.hpp>
#include <shmkit/segment_info.hpp>
#include <shmkit/server.hpp>
#include <shmkit/wait_options.hpp>
