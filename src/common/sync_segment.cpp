#include "sync_segment.hpp"

#include <shmkit/name.hpp>

#include <cstring>

namespace shmkit::detail {
namespace {

struct InitContext {
  const SyncRequest* request;
  const std::string* name;
  unsigned permissions;
  std::unique_ptr<WordWaiter>* waiter;
};

void initialize(void* data, std::size_t, const void* context, Failure& failure) {
  const auto& c = *static_cast<const InitContext*>(context);
  auto* preamble = static_cast<SyncPreamble*>(data);
  preamble->layout = c.request->layout;
  preamble->waiter_kind = word_waiter_kind();
  // The waiter exists before the object is published, so an opener can
  // always open it.
  if (c.request->needs_waiter) {
    *c.waiter = make_word_waiter(*c.name, true, c.permissions, failure);
    if (failure) return;
  }
  if (c.request->initialize != nullptr) {
    c.request->initialize(preamble + 1, c.request->context, failure);
  }
}

}  // namespace

SyncSegment open_sync_segment(const std::string& name, const Options& options, OpenMode mode,
                              const SyncRequest& request, Failure& failure) {
  SyncSegment result;
  const char* what = kind_name(request.kind);
  if (options.raw || options.access == Access::read_only) {
    failure.set(errc::invalid_argument, std::string(what) + " " + quoted(name) +
                                            ": Options::raw and Access::read_only apply to "
                                            "segments only; a " +
                                            what + " needs neither");
    return result;
  }
  const std::size_t size = sizeof(SyncPreamble) + request.state_size;
  InitContext context{&request, &name, options.permissions, &result.waiter};
  SegmentRequest segment_request{request.kind, &initialize, &context};
  result.memory = open_segment(name, size, options, mode, segment_request, failure);
  if (failure) {
    if (failure.code == make_error_code(errc::size_mismatch)) {
      failure.set(errc::incompatible_layout,
                  std::string(what) + " " + quoted(name) +
                      " was made by another version of shmkit (its state has another size); "
                      "use one shmkit version for every process that shares it");
    }
    return result;
  }
  if (result.memory.size() != size) {
    failure.set(errc::incompatible_layout,
                std::string(what) + " " + quoted(name) + " has a state of " +
                    std::to_string(result.memory.size()) + " bytes, expected " +
                    std::to_string(size) + ": it was made by another version of shmkit");
    return result;
  }
  SyncPreamble preamble;
  std::memcpy(&preamble, result.memory.data(), sizeof preamble);
  if (preamble.layout != request.layout || preamble.waiter_kind != word_waiter_kind()) {
    failure.set(errc::incompatible_layout,
                std::string(what) + " " + quoted(name) +
                    " was made by a shmkit built for another code path (the portable POSIX "
                    "build and the Linux futex build cannot share objects); build every "
                    "process the same way");
    result.memory.close();
    return result;
  }
  if (request.needs_waiter && !result.memory.created()) {
    result.waiter = make_word_waiter(name, false, options.permissions, failure);
    if (failure) return result;
  }
  result.state = static_cast<char*>(result.memory.data()) + sizeof(SyncPreamble);
  return result;
}

bool remove_sync_segment(const std::string& name, const Options& options, Failure& failure) {
  if (!is_valid_name(name)) {
    failure.set(errc::invalid_name, "'" + name +
                                        "' is not a valid shmkit name: use 1-30 "
                                        "characters of A-Z a-z 0-9 . _ -");
    return false;
  }
  std::error_code ec;
  const bool removed = NamedSharedMemory::remove(name, options, ec);
  if (ec) {
    failure.set(ec, "remove " + quoted(name) + " failed");
    return false;
  }
  remove_word_waiter(name);
  return removed;
}

}  // namespace shmkit::detail
