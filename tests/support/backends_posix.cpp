#include "test_names.hpp"

namespace shmkit::test {

std::vector<Backend> segment_backends() {
  return {Backend::posix, Backend::sysv};
}

}  // namespace shmkit::test
