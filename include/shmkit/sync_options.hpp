// The options NamedMutex, NamedEvent and NamedSemaphore take.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/options.hpp>

SHMKIT_BEGIN_NAMESPACE

// Everything a sync object means is in ObjectOptions (who may use it, how an
// existing one is judged, Win32 scope and SDDL); a sync object adds nothing.
// It is its own type so that a segment-only field (backend, raw, populate)
// cannot be set on a mutex, and so that a field can be added later without
// changing any signature.
//
// Opened on the native backend: on POSIX a small shmkit segment holds the
// state, on Win32 a kernel object is the object.
struct SyncOptions : ObjectOptions {};

SHMKIT_END_NAMESPACE
