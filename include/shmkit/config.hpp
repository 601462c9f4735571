// The versioned namespace every shmkit name lives in.
//
// All of shmkit is declared in shmkit::v1, an inline namespace: code says
// shmkit::Ring, the linker sees shmkit::v1::Ring. A release that changes the
// ABI bumps the version here (and the library's SOVERSION, docs/abi.md), so a
// program built against one ABI fails to link against another instead of
// misbehaving at run time.
#pragma once

#define SHMKIT_ABI_VERSION 1
#define SHMKIT_BEGIN_NAMESPACE \
  namespace shmkit {           \
  inline namespace v1 {
#define SHMKIT_END_NAMESPACE \
  }                          \
  }
