# Warnings as errors on the project's own targets only (never on imported ones).
function(ssebench_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
  # GCC 12 at -O2 and above reports libstdc++'s own std::string concatenation (`"-" + s`) as
  # an overlapping memcpy (GCC bug 105651, fixed in 13): a false -Wrestrict that stopped the
  # release build of three test targets. Still reported there, no longer fatal.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-error=restrict)
  endif()
endfunction()
