# Warnings as errors on the project's own targets only (never on imported ones).
function(ssebench_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
endfunction()
