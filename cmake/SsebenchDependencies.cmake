# Every dependency comes from Debian 12's packages as an imported target.
# scripts/test and scripts/bench install what is missing (see scripts/lib/deps.sh).
find_package(Threads REQUIRED)
# Boost 1.81 (libboost1.81-dev): Beast, Asio and JSON are used header-only; Debian has no
# Boost::beast target, so everything links Boost::headers.
find_package(Boost 1.81 EXACT REQUIRED)
find_package(CURL REQUIRED)
find_package(fmt REQUIRED)
# OpenSSL 3 (libssl-dev): the server's TLS (Beast's ssl_stream) and core's throwaway certificates.
find_package(OpenSSL 3 REQUIRED)
# libnghttp2 (libnghttp2-dev) for the server's HTTP/2 session: the same library libcurl's HTTP/2
# uses, so both ends speak one implementation's framing. Debian ships no CMake config for it,
# only a pkg-config file: an IMPORTED_TARGET keeps linking target-scoped (PkgConfig::nghttp2).
find_package(PkgConfig REQUIRED)
pkg_check_modules(nghttp2 REQUIRED IMPORTED_TARGET libnghttp2)
if(SSEBENCH_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
if(SSEBENCH_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
