// Boost.JSON is used header-only (Debian's libboost1.81-dev has the headers; no extra
// package): its implementation is compiled once, here, for every target that links core.
#include <boost/json/src.hpp>
