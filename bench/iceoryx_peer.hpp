// iceoryx 2 (eclipse-iceoryx, Debian's libiceoryx-posh-dev) as a peer of
// bench_messaging's round trips: a 64-byte message loaned and published,
// taken and released (zero-copy), or published with publishCopyOf and copied
// out of the taken sample (copy). Built only when CMake finds iceoryx_posh.
//
// iceoryx needs its daemon, RouDi, and one runtime per process that cannot
// be re-initialised or shared with a forked child. So the benchmark starts
// its own iox-roudi (fork and exec, killed with the benchmark through
// PR_SET_PDEATHSIG, stopped by pid at exit), the parent registers one runtime
// for its whole life, and every echo peer is this program executed again
// (with the arguments run_iceoryx_peer_if_asked looks for), registering a
// runtime of its own. The iceoryx headers stay in iceoryx_peer.cpp.
#pragma once

#include "bench_process.hpp"

#include <cstddef>
#include <memory>
#include <string>

namespace shmkit::bench {

// In the re-executed peer: runs the echo loop and returns true with the
// process's exit status in `status`; false in every other process.
bool run_iceoryx_peer_if_asked(int argc, char** argv, int& status);

// What the report should say about the iceoryx rows ("yes, ..." or why not).
std::string iceoryx_description();

// One round-trip transport: publishers and subscribers on two services of
// their own and a peer process pinned as `pinning` pins children,
// connected before the constructor returns. Throws std::runtime_error when
// RouDi or the peer cannot be started or connected within a few seconds.
class IceoryxPingPong {
 public:
  static constexpr std::size_t k_message_size = 64;

  IceoryxPingPong(bool zero_copy, const Pinning& pinning);
  IceoryxPingPong(const IceoryxPingPong&) = delete;
  IceoryxPingPong& operator=(const IceoryxPingPong&) = delete;
  ~IceoryxPingPong();

  // Sends the 64 bytes at `message` and waits for the echo, written back
  // into `message`.
  void exchange(void* message);
  // Tells the peer to leave and waits until it has.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shmkit::bench
