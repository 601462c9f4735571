#include <shmkit/errc.hpp>
#include <shmkit/error.hpp>
#include <shmkit/name.hpp>

#include "core/last_failure.hpp"

#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "shmkit"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_name:
        return "invalid name: use 1-" + std::to_string(k_max_name_length) +
               " characters of A-Z a-z 0-9 . _ -";
      case errc::invalid_size:
        return "invalid size: use at least 1 byte and no more than the address space can map";
      case errc::invalid_argument:
        return "invalid argument: the options contradict each other";
      case errc::backend_unavailable:
        return "backend not available on this platform: use Backend::native";
      case errc::already_exists:
        return "the name is taken: open it, use open_or_create, or remove it first";
      case errc::not_found:
        return "no such object: create it first, or check the name and backend";
      case errc::size_mismatch:
        return "the segment exists with another size: open it without a size, or remove it first";
      case errc::incompatible_layout:
        return "not a shmkit object of this layout version: open it with SegmentOptions::raw, or "
               "remove it";
      case errc::corrupted:
        return "the shared header is corrupted: remove the object and create it again";
      case errc::not_ready:
        return "the creator never finished creating it (it may have died): remove it and "
               "create it again";
      case errc::name_collision:
        return "another name hashes to the same SysV key: rename one of them or use the posix "
               "backend";
      case errc::read_only:
        return "the handle is read-only: open it with Access::read_write";
      case errc::wrong_kind:
        return "the name belongs to another kind of object: give each object its own name";
      case errc::overflow:
        return "the count would pass its maximum: post less, or wait more";
      case errc::peer_gone:
        return "the process at the other end has exited or closed: reconnect, or stop";
      case errc::message_too_large:
        return "the message does not fit: use a larger ring or buffer, or split the message";
      case errc::role_taken:
        return "another live process holds this end: close it there first";
      case errc::type_mismatch:
        return "the queue holds another message type: open it with the type it was created with";
      case errc::untrusted_owner:
        return "another user owns the object: remove it, or name that user in "
               "ObjectOptions::trusted_owners if you mean to share with them";
      case errc::insecure_permissions:
        return "the object is open to more users than requested: remove it, or set "
               "ObjectOptions::accept_wider_permissions";
      case errc::invalid_state:
        return "the call does not fit the handle's state: open the handle first, and follow "
               "the order its class documents";
      case errc::out_of_space:
        return "the managed segment's heap has no free block that large: free some, or "
               "create a larger segment";
    }
    return "unknown shmkit error " + std::to_string(value);
  }

  // Lets portable code test `ec == std::errc::file_exists` and the like,
  // whichever OS produced the condition.
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::already_exists:
        return std::errc::file_exists;
      case errc::not_found:
        return std::errc::no_such_file_or_directory;
      case errc::invalid_name:
      case errc::invalid_size:
      case errc::invalid_argument:
        return std::errc::invalid_argument;
      case errc::backend_unavailable:
        return std::errc::function_not_supported;
      case errc::read_only:
        return std::errc::read_only_file_system;
      case errc::untrusted_owner:
      case errc::insecure_permissions:
        return std::errc::permission_denied;
      default:
        return {value, *this};
    }
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::string error_message(const std::error_code& ec) {
  if (!ec) return {};
  std::string sentence = detail::last_failure_sentence(ec);
  return sentence.empty() ? ec.message() : sentence;
}

SHMKIT_END_NAMESPACE
