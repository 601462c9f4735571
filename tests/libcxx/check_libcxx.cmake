# cmake -DSOURCE_DIR=... -DWORK_DIR=... -DDOCTEST_INCLUDE=... -DGENERATOR=...
#       [-DCLANG=clang++] -P check_libcxx.cmake
# Builds tests/libcxx (the library and the container tests) with clang and
# libc++, and runs the std_containers and shared_containers suites. Prints
# "SHMKIT_SKIPPED" (the test's SKIP_REGULAR_EXPRESSION) and succeeds when
# clang++ or libc++ is not installed.
if(NOT CLANG)
  find_program(CLANG NAMES clang++ clang++-19 clang++-18 clang++-17 clang++-16 clang++-15 clang++-14)
endif()
if(NOT CLANG)
  message("SHMKIT_SKIPPED: clang++ not found (install clang and libc++-dev to run this check)")
  return()
endif()

file(MAKE_DIRECTORY "${WORK_DIR}")
file(WRITE "${WORK_DIR}/probe.cpp" "#include <vector>\nint main() { return std::vector<int>{1}.size() == 1 ? 0 : 1; }\n")
execute_process(COMMAND "${CLANG}" -stdlib=libc++ "${WORK_DIR}/probe.cpp" -o "${WORK_DIR}/probe"
  RESULT_VARIABLE probe_result OUTPUT_QUIET ERROR_QUIET)
if(NOT probe_result EQUAL 0)
  message("SHMKIT_SKIPPED: ${CLANG} cannot build with -stdlib=libc++ (install libc++-dev and libc++abi-dev)")
  return()
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/tests/libcxx" -B "${WORK_DIR}/build"
    -G "${GENERATOR}"
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
    "-DCMAKE_CXX_COMPILER=${CLANG}"
    "-DCMAKE_CXX_FLAGS=-stdlib=libc++"
    "-DCMAKE_EXE_LINKER_FLAGS=-stdlib=libc++"
    "-DSHMKIT_SOURCE_DIR=${SOURCE_DIR}"
    "-DSHMKIT_DOCTEST_INCLUDE=${DOCTEST_INCLUDE}"
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "configuring the libc++ build failed")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}/build" --target shmkit_libcxx_tests
    -j 2
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "building the container tests with libc++ failed")
endif()
execute_process(COMMAND "${WORK_DIR}/build/shmkit_libcxx_tests"
    "--test-suite=std_containers,shared_containers" --no-intro --force-colors=0 --success=0
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the container tests failed with libc++")
endif()
