#include "test_names.hpp"

namespace shmkit::test {

std::vector<Backend> segment_backends() {
  return {Backend::win32};
}

}  // namespace shmkit::test
