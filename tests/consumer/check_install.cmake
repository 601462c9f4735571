# cmake -P script run by ctest: install, then build and run tests/consumer.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " line "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${line}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
string(RANDOM LENGTH 8 suffix)

# 1. The library as this build made it (static by default).
run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/static-prefix")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer" -B "${WORK_DIR}/static-consumer"
    -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/static-prefix)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/static-consumer")
run("${WORK_DIR}/static-consumer/consumer" "consumer-s-${suffix}")

# 2. A shared library with its export macros, from the same sources.
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/shared-build" -G "${GENERATOR}"
    -DCMAKE_CXX_COMPILER=${CXX} -DBUILD_SHARED_LIBS=ON -DSHMKIT_WARNINGS_AS_ERRORS=ON
    -DSHMKIT_BUILD_TESTS=OFF -DSHMKIT_BUILD_EXAMPLES=OFF -DSHMKIT_BUILD_BENCHMARKS=OFF
    -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/shared-build")
run(${CMAKE_COMMAND} --install "${WORK_DIR}/shared-build" --prefix "${WORK_DIR}/shared-prefix")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer" -B "${WORK_DIR}/shared-consumer"
    -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/shared-prefix)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/shared-consumer")
run("${WORK_DIR}/shared-consumer/consumer" "consumer-d-${suffix}")

# 3. pkg-config sees the same package.
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  file(GLOB_RECURSE pc_files "${WORK_DIR}/static-prefix/*/shmkit.pc")
  list(GET pc_files 0 pc)
  get_filename_component(pc_dir "${pc}" DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
  run(${PKG_CONFIG} --exists --print-errors "shmkit >= 0.1")
endif()
