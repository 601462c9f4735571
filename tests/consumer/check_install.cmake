# cmake -P script run by ctest: install, then build and run tests/consumer.
#   -DSOURCE_DIR -DBUILD_DIR -DWORK_DIR -DGENERATOR -DCXX    always
#   -DCXX_ID -DCXX_VARIANT         CMAKE_CXX_COMPILER_ID and _FRONTEND_VARIANT
#                                  (the pkg-config builds need a gcc-like driver)
#   -DCXX_FLAGS -DEXE_LINKER_FLAGS the build's own flags, which the pkg-config
#                                  builds add as a Makefile would (the mingw
#                                  toolchain links -static: no DLLs under Wine)
#   -DTOOLCHAIN_FILE -DEMULATOR    for a cross build whose programs run under
#                                  an emulator (mingw-w64 + Wine)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " line "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${line}")
  endif()
endfunction()

set(compiler_args -DCMAKE_CXX_COMPILER=${CXX})
if(TOOLCHAIN_FILE)
  list(APPEND compiler_args "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_FILE}")
endif()

# find_args PREFIX: how the consumer finds the package installed in PREFIX.
function(find_args prefix out)
  set(args "-DCMAKE_PREFIX_PATH=${prefix}")
  if(TOOLCHAIN_FILE)
    # A cross toolchain searches for packages only under its sysroot
    # (CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY), so name the config directly.
    file(GLOB_RECURSE config "${prefix}/*/shmkitConfig.cmake")
    get_filename_component(config_dir "${config}" DIRECTORY)
    list(APPEND args "-Dshmkit_DIR=${config_dir}")
  endif()
  set(${out} ${args} PARENT_SCOPE)
endfunction()

# run_consumer DIR NAME [PROGRAM]: runs DIR/PROGRAM(.exe) (default
# "consumer"), under the emulator if any (Wine, unlike Windows, does not add
# the .exe itself).
function(run_consumer dir name)
  set(program "${dir}/consumer")
  if(ARGC GREATER 2)
    set(program "${dir}/${ARGV2}")
  endif()
  if(EXISTS "${program}.exe")
    set(program "${program}.exe")
  endif()
  run(${EMULATOR} "${program}" "${name}")
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
string(RANDOM LENGTH 8 suffix)

# 1. The library as this build made it (static by default).
run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/static-prefix")
find_args("${WORK_DIR}/static-prefix" static_find)
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer" -B "${WORK_DIR}/static-consumer"
    -G "${GENERATOR}" ${compiler_args} ${static_find})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/static-consumer")
run_consumer("${WORK_DIR}/static-consumer" "consumer-s-${suffix}")

# 2. A shared library with its export macros, from the same sources.
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/shared-build" -G "${GENERATOR}"
    ${compiler_args} -DBUILD_SHARED_LIBS=ON -DSHMKIT_WARNINGS_AS_ERRORS=ON
    -DSHMKIT_BUILD_TESTS=OFF -DSHMKIT_BUILD_EXAMPLES=OFF -DSHMKIT_BUILD_BENCHMARKS=OFF
    -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/shared-build")
run(${CMAKE_COMMAND} --install "${WORK_DIR}/shared-build" --prefix "${WORK_DIR}/shared-prefix")
find_args("${WORK_DIR}/shared-prefix" shared_find)
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer" -B "${WORK_DIR}/shared-consumer"
    -G "${GENERATOR}" ${compiler_args} ${shared_find})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/shared-consumer")
# Windows (and Cygwin) load a program's DLLs from its own folder or from PATH,
# never through an rpath, and the package installs the DLL into bin/: put that
# on PATH, as a user of the package must. Without it the run fails with
# "libshmkit.dll not found". Wine prepends WINEPATH to its Windows PATH.
set(shared_bin "${WORK_DIR}/shared-prefix/bin")
if(EMULATOR)
  set(ENV{WINEPATH} "${shared_bin};$ENV{WINEPATH}")
elseif(CMAKE_HOST_WIN32)
  file(TO_NATIVE_PATH "${shared_bin}" shared_bin_native)
  set(ENV{PATH} "${shared_bin_native};$ENV{PATH}")
else()
  set(ENV{PATH} "${shared_bin}:$ENV{PATH}")  # Cygwin: bin/cygshmkit-1.dll
endif()
run_consumer("${WORK_DIR}/shared-consumer" "consumer-d-${suffix}")

# 3. pkg-config: a consumer built from `pkg-config [--static] --cflags --libs
# shmkit` alone, as a Makefile would, against each prefix. The static one is
# what needs Libs.private and -DSHMKIT_STATIC_DEFINE; the shared one must not
# get the define (on Windows it would make every symbol a local one).
find_program(PKG_CONFIG pkg-config)
if(NOT PKG_CONFIG)
  message(STATUS "pkg-config not found: shmkit.pc is not checked")
elseif(CXX_ID STREQUAL "MSVC" OR CXX_VARIANT STREQUAL "MSVC")
  message(STATUS "${CXX} does not take pkg-config's -l flags: shmkit.pc is not checked")
else()
  # pc_consumer PREFIX LABEL [--static]: builds and runs the consumer with
  # pkg-config's flags for the package installed in PREFIX.
  function(pc_consumer prefix label)
    file(GLOB_RECURSE pc "${prefix}/*/shmkit.pc")
    get_filename_component(pc_dir "${pc}" DIRECTORY)
    set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
    run(${PKG_CONFIG} --exists --print-errors "shmkit >= 1.0")
    execute_process(COMMAND ${PKG_CONFIG} ${ARGN} --cflags --libs shmkit
      OUTPUT_VARIABLE flags RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "pkg-config ${ARGN} --cflags --libs shmkit failed (${rc})")
    endif()
    message(STATUS "pkg-config ${ARGN} --cflags --libs shmkit (${label}): ${flags}")
    file(GLOB static_archive "${prefix}/lib*/libshmkit.a" "${prefix}/lib*/shmkit.lib")
    file(GLOB shared_library "${prefix}/lib*/libshmkit.so*" "${prefix}/lib*/libshmkit*.dylib"
      "${prefix}/lib*/libshmkit.dll.a" "${prefix}/bin/*shmkit*.dll")
    if(static_archive AND NOT shared_library AND NOT flags MATCHES "-DSHMKIT_STATIC_DEFINE")
      message(FATAL_ERROR "shmkit.pc of a static install lacks -DSHMKIT_STATIC_DEFINE: ${pc}")
    endif()
    if(shared_library AND flags MATCHES "SHMKIT_STATIC_DEFINE")
      message(FATAL_ERROR "shmkit.pc of a shared install has -DSHMKIT_STATIC_DEFINE: ${pc}")
    endif()
    if(shared_library AND EMULATOR)
      # The mingw toolchain links programs -static (no runtime DLLs under
      # Wine), and -static makes `-lshmkit` skip the DLL's import library.
      message(STATUS "shared shmkit.pc under ${EMULATOR}: flags checked, no program built")
      return()
    endif()
    separate_arguments(flags UNIX_COMMAND "${flags}")
    set(dir "${WORK_DIR}/${label}-pkg-config")
    file(MAKE_DIRECTORY "${dir}")
    set(rpath "")
    if(shared_library AND NOT EMULATOR AND NOT CMAKE_HOST_WIN32
       AND NOT CMAKE_HOST_SYSTEM_NAME MATCHES "CYGWIN|MSYS")
      file(GLOB libdir LIST_DIRECTORIES true "${prefix}/lib*")
      list(GET libdir 0 libdir)
      set(rpath "-Wl,-rpath,${libdir}")
    endif()
    separate_arguments(build_flags UNIX_COMMAND "${CXX_FLAGS} ${EXE_LINKER_FLAGS}")
    # pkg-config's flags come after the source, as a static link needs.
    run(${CXX} -std=c++17 ${build_flags} "${SOURCE_DIR}/tests/consumer/main.cpp" ${flags} ${rpath}
        -o "${dir}/consumer")
    run_consumer("${dir}" "consumer-${label}p-${suffix}")
  endfunction()
  pc_consumer("${WORK_DIR}/static-prefix" s --static)
  pc_consumer("${WORK_DIR}/shared-prefix" d)
endif()
