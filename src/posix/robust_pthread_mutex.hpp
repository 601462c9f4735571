// Linux: a robust, process-shared, error-checking pthread mutex in a shmkit
// segment. The kernel's robust list releases it when its owner dies and the
// next locker gets EOWNERDEAD at once, without polling.
#pragma once

#include "../common/sync_impl.hpp"

namespace shmkit::detail {

std::unique_ptr<MutexImpl> open_robust_pthread_mutex(const std::string& name,
                                                     const Options& options, OpenMode mode,
                                                     Failure& failure);

}  // namespace shmkit::detail
