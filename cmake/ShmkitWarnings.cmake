# shmkit_set_warnings(target): the project's warning level, as errors when
# SHMKIT_WARNINGS_AS_ERRORS is on (CI turns it on).
function(shmkit_set_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${SHMKIT_WARNINGS_AS_ERRORS}>:/WX>)
    # strcpy/getenv in tests and examples are used with sizes checked by hand.
    target_compile_definitions(${target} PRIVATE _CRT_SECURE_NO_WARNINGS)
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic
      $<$<BOOL:${SHMKIT_WARNINGS_AS_ERRORS}>:-Werror>)
  endif()
endfunction()
