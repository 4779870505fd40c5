#pragma once
/**
 * Network namespaces and TUN devices of the emulator's own, made with system calls (as
 * `ip netns add` does: a bind mount of the namespace at /run/netns/NAME), so `ip netns exec NAME`
 * works on them. Errors are `std::system_error`s whose what() names the step that failed.
 */
#include <string>
#include <string_view>
#include <vector>

namespace ssebench::link {

/** Where `ip netns` keeps named namespaces. */
inline constexpr std::string_view netns_dir = "/run/netns";

/** A file descriptor closed at destruction. */
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/** A named network namespace, created at construction, removed at destruction. */
class Netns {
 public:
  /** Creates /run/netns/NAME holding a new, empty network namespace. */
  explicit Netns(std::string name);
  Netns(Netns&& o) noexcept : name_(std::move(o.name_)) { o.name_.clear(); }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  ~Netns();
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

/** Removes the named namespace (unmount and unlink); true when it existed. */
bool remove_netns(std::string_view name);

/** The calling thread runs in the named namespace until destruction, then returns. */
class EnterNetns {
 public:
  explicit EnterNetns(std::string_view name);
  EnterNetns(const EnterNetns&) = delete;
  EnterNetns& operator=(const EnterNetns&) = delete;
  ~EnterNetns();

 private:
  Fd home_;
};

/** Point-to-point IPv4 addresses of one TUN end. */
struct TunAddress {
  std::string local;  // e.g. "10.213.8.1"
  std::string peer;   // e.g. "10.213.8.2"
  int prefix = 30;
  int mtu = 1500;
};

/**
 * Opens a TUN device named `dev` (IFF_TUN | IFF_NO_PI: raw IP packets) inside the namespace
 * `ns`, gives it `addr`, brings it and the namespace's loopback up, turns IPv6 off on it (no
 * router solicitations on the link), and returns its non-blocking fd; the calling thread is back
 * in its own namespace on return. `tun_path` is the clone device (/dev/net/tun).
 */
Fd open_tun(std::string_view ns, std::string_view dev, const TunAddress& addr,
            const std::string& tun_path);

/** The namespace names of an emulator: PREFIX-NAME-PID-srv and -cli. */
std::string netns_name(std::string_view name, long pid, std::string_view side);

/**
 * Removes the namespaces and control sockets left by emulators that are gone (killed with
 * SIGKILL): names `ssebench-*-PID-srv|cli` whose PID is no longer a running ssebench-link.
 * Returns the names removed.
 */
std::vector<std::string> remove_stale(std::string_view control_dir);

}  // namespace ssebench::link
