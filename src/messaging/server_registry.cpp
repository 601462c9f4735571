#include "messaging/server_registry.hpp"

#include "core/name_check.hpp"
#include "core/process_identity.hpp"
#include "messaging/ring_core.hpp"
#include "messaging/ring_segment.hpp"
#include "segment/segment_header.hpp"

#include <shmkit/name.hpp>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

constexpr std::uint32_t k_server_layout = 0x53525632;  // "SRV2": capacity after the slots
constexpr std::size_t k_max_id_digits = 5;             // 36^5 > k_id_mask

// "." before the id and ".N" after it, for the ring's wake-up companions.
std::size_t id_digits(const std::string& server) {
  static_assert(k_max_name_length + 1 + 3 + 2 <= k_max_os_name_length,
                "a server name leaves at least 3 characters for its connection ids");
  const std::size_t room = k_max_os_name_length - 2 - 1 - server.size();
  return room < k_max_id_digits ? room : k_max_id_digits;
}

void initialize_registry(void* state, const void* context, Failure&) {
  static_cast<ServerState*>(state)->capacity.store(*static_cast<const std::uint64_t*>(context));
}

}  // namespace

std::uint32_t connection_id_space(const std::string& server) {
  std::uint64_t space = 1;
  for (std::size_t i = id_digits(server); i > 0; --i) space *= 36;
  return space > k_id_mask ? k_id_mask + 1 : static_cast<std::uint32_t>(space);
}

std::string connection_name(const std::string& server, std::uint32_t id) {
  std::uint32_t rest = id % connection_id_space(server);
  std::string digits(id_digits(server), '0');
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    *it = "0123456789abcdefghijklmnopqrstuvwxyz"[rest % 36];
    rest /= 36;
  }
  return server + "." + digits;
}

SyncSegment open_registry(const std::string& name, const SegmentOptions& options, OpenMode mode,
                          std::uint64_t capacity, Failure& failure) {
  const SyncRequest request{ObjectKind::server,   k_server_layout, sizeof(ServerState), 2, true,
                            &initialize_registry, &capacity};
  return open_sync_segment(name, options, mode, request, failure);
}

bool endpoint_alive(std::uint64_t word) {
  return word > k_endpoint_closed && is_alive(word >> 32, word, k_slot_start_time_mask);
}

void remove_connection(const std::string& server, std::uint32_t id, const SegmentOptions& options) {
  Failure ignored;
  remove_ring_segment(connection_name(server, id), 2, options, ignored);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
