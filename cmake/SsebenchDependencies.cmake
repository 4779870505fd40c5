# Every dependency comes from Debian 12's packages as an imported target.
# scripts/test and scripts/bench install what is missing (see scripts/lib/deps.sh).
find_package(Threads REQUIRED)
# Boost 1.81 (libboost1.81-dev): Beast, Asio and JSON are used header-only; Debian has no
# Boost::beast target, so everything links Boost::headers.
find_package(Boost 1.81 EXACT REQUIRED)
find_package(CURL REQUIRED)
find_package(fmt REQUIRED)
if(SSEBENCH_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
if(SSEBENCH_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
