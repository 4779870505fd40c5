#pragma once
// Waits that last as long as a held user: their operations allocated at their own size.
//
// Asio allocates a handler's operation from a per-thread cache of recycled blocks when the
// handler has no allocator of its own (std::allocator), and a cached block is reused whenever it
// is large enough: a 150-byte timer wait then keeps the 400-byte block a request's read left
// behind, for as long as it waits. For a stream's pacing timer, its lifetime deadline and its
// read watch, that is minutes per user: issue 19 measured (heaptrack, 2,000 held SSE streams)
// 1,293 bytes of such blocks per session. An allocator of another type makes asio allocate the
// operation with it instead, at its exact size. The sessions use it only for waits longer than
// WriteWatchdog::rest_after (a second): a paced token's wait keeps the cache's fast path.
#include <cstddef>
#include <memory>
#include <utility>

#include <boost/asio/bind_allocator.hpp>

namespace ssebench::server {

/** std::allocator under a type of its own, so that asio does not take it for the default. */
template <typename T>
struct ExactAllocator {
  using value_type = T;
  ExactAllocator() noexcept = default;
  template <typename U>
  ExactAllocator(const ExactAllocator<U>&) noexcept {}  // NOLINT: rebinding converts implicitly
  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>{}.deallocate(p, n); }
  template <typename U>
  bool operator==(const ExactAllocator<U>&) const noexcept {
    return true;
  }
};

/** A completion handler for a wait that may last as long as a held user. */
template <typename Handler>
auto held_wait(Handler&& handler) {
  return boost::asio::bind_allocator(ExactAllocator<void>{}, std::forward<Handler>(handler));
}

}  // namespace ssebench::server
