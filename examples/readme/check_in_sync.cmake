# Fails when README.md's C++ example and examples/readme/readme.cpp differ.
file(READ "${README}" readme)
file(READ "${EXAMPLE}" example)
string(REGEX REPLACE "^//[^\n]*\n" "" example "${example}")  # its first-line comment
string(FIND "${readme}" "${example}" where)
if(where EQUAL -1)
  message(FATAL_ERROR "README.md's example differs from ${EXAMPLE}: update one from the other")
endif()
