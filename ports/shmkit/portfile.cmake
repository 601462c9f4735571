# An overlay port whose source is this repository (the port lives in it):
#   vcpkg install shmkit --overlay-ports=ports
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DSHMKIT_BUILD_TESTS=OFF
    -DSHMKIT_BUILD_EXAMPLES=OFF
    -DSHMKIT_BUILD_BENCHMARKS=OFF
    -DSHMKIT_BUILD_TOOLS=ON
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH lib/cmake/shmkit)
vcpkg_copy_tools(TOOL_NAMES shmkit AUTO_CLEAN)  # the shmkit command-line tool
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/include" "${CURRENT_PACKAGES_DIR}/debug/share")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
