#include "ssebench/link/netns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "ssebench/parse.hpp"

namespace ssebench::link {

namespace {

[[noreturn]] void fail(std::string_view what) {
  throw std::system_error(errno, std::generic_category(), std::string(what));
}

std::string path_of(std::string_view name) {
  return fmt::format("{}/{}", netns_dir, name);
}

// iproute2's netns_add: /run/netns is made a shared mount point (a bind mount of itself), so a
// namespace mounted there is seen from every mount namespace, as `ip netns` expects.
void prepare_netns_dir() {
  if (::mkdir(std::string(netns_dir).c_str(), 0755) != 0 && errno != EEXIST)
    fail(fmt::format("mkdir {}", netns_dir));
  const std::string dir(netns_dir);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) return;
    if (errno != EINVAL || attempt == 1) fail(fmt::format("mount --make-shared {}", dir));
    if (::mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) != 0)
      fail(fmt::format("mount --bind {}", dir));
  }
}

void ioctl_or_fail(int fd, unsigned long req, ifreq& ifr, std::string_view what) {
  if (::ioctl(fd, req, &ifr) != 0) fail(fmt::format("{} {}", what, ifr.ifr_name));
}

void set_name(ifreq& ifr, std::string_view dev) {
  std::memset(&ifr, 0, sizeof ifr);
  std::memcpy(ifr.ifr_name, dev.data(), std::min(dev.size(), sizeof ifr.ifr_name - 1));
}

void set_addr(sockaddr* sa, const std::string& ip) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  if (::inet_pton(AF_INET, ip.c_str(), &in.sin_addr) != 1) {
    errno = EINVAL;
    fail(fmt::format("address {}", ip));
  }
  std::memcpy(sa, &in, sizeof in);
}

void bring_up(int sock, std::string_view dev) {
  ifreq ifr;
  set_name(ifr, dev);
  ioctl_or_fail(sock, SIOCGIFFLAGS, ifr, "get flags of");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  ioctl_or_fail(sock, SIOCSIFFLAGS, ifr, "bring up");
}

// Writes a sysctl of the current namespace; missing IPv6 is not an error.
void write_sysctl(const std::string& path, std::string_view value) {
  std::ofstream out(path);
  if (out) out << value;
}

bool pid_is_emulator(long pid) {
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  std::ifstream comm(fmt::format("/proc/{}/comm", pid));
  std::string name;
  std::getline(comm, name);
  return name == "ssebench-link";
}

// "ssebench-NAME-PID-srv" → PID (0 when the name is not an emulator's).
long pid_of_netns(std::string_view n) {
  if (!n.starts_with("ssebench-")) return 0;
  if (!n.ends_with("-srv") && !n.ends_with("-cli")) return 0;
  n.remove_suffix(4);
  const auto dash = n.rfind('-');
  if (dash == std::string_view::npos || dash < 9) return 0;
  const auto pid = parse_u64(n.substr(dash + 1));
  return pid ? static_cast<long>(*pid) : 0;
}

}  // namespace

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Netns::Netns(std::string name) : name_(std::move(name)) {
  prepare_netns_dir();
  const std::string path = path_of(name_);
  Fd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
  if (!file) fail(fmt::format("create {}", path));
  file = Fd();
  Fd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home) {
    const int e = errno;
    ::unlink(path.c_str());
    errno = e;
    fail("open /proc/thread-self/ns/net");
  }
  // A new namespace for this thread, pinned by the bind mount, then back home.
  const bool made =
      ::unshare(CLONE_NEWNET) == 0 &&
      ::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) == 0;
  const int e = errno;
  if (::setns(home.get(), CLONE_NEWNET) != 0) std::terminate();  // never left in the new one
  if (!made) {
    ::umount2(path.c_str(), MNT_DETACH);
    ::unlink(path.c_str());
    errno = e;
    name_.clear();
    fail(fmt::format("create network namespace {}", path));
  }
}

Netns::~Netns() {
  if (!name_.empty()) remove_netns(name_);
}

bool remove_netns(std::string_view name) {
  const std::string path = path_of(name);
  ::umount2(path.c_str(), MNT_DETACH);
  return ::unlink(path.c_str()) == 0;
}

EnterNetns::EnterNetns(std::string_view name) {
  home_ = Fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home_) fail("open /proc/thread-self/ns/net");
  const std::string path = path_of(name);
  Fd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) fail(fmt::format("open {}", path));
  if (::setns(target.get(), CLONE_NEWNET) != 0) fail(fmt::format("enter {}", path));
}

EnterNetns::~EnterNetns() {
  if (::setns(home_.get(), CLONE_NEWNET) != 0) std::terminate();
}

Fd open_tun(std::string_view ns, std::string_view dev, const TunAddress& addr,
            const std::string& tun_path) {
  EnterNetns inside(ns);
  // IPv6 off before the device exists, so it never sends router or listener solicitations.
  write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
  write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
  Fd tun(::open(tun_path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!tun) fail(fmt::format("open {}", tun_path));
  ifreq ifr;
  set_name(ifr, dev);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  ioctl_or_fail(tun.get(), TUNSETIFF, ifr, "create TUN device");

  Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) fail("socket");
  set_name(ifr, dev);
  set_addr(&ifr.ifr_addr, addr.local);
  ioctl_or_fail(sock.get(), SIOCSIFADDR, ifr, "set address of");
  set_name(ifr, dev);
  set_addr(&ifr.ifr_dstaddr, addr.peer);
  ioctl_or_fail(sock.get(), SIOCSIFDSTADDR, ifr, "set peer address of");
  set_name(ifr, dev);
  const std::uint32_t mask = addr.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - addr.prefix);
  sockaddr_in m{};
  m.sin_family = AF_INET;
  m.sin_addr.s_addr = htonl(mask);
  std::memcpy(&ifr.ifr_netmask, &m, sizeof m);
  ioctl_or_fail(sock.get(), SIOCSIFNETMASK, ifr, "set netmask of");
  set_name(ifr, dev);
  ifr.ifr_mtu = addr.mtu;
  ioctl_or_fail(sock.get(), SIOCSIFMTU, ifr, "set MTU of");
  bring_up(sock.get(), dev);
  bring_up(sock.get(), "lo");
  return tun;
}

std::string netns_name(std::string_view name, long pid, std::string_view side) {
  return fmt::format("ssebench-{}-{}-{}", name, pid, side);
}

std::vector<std::string> remove_stale(std::string_view control_dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(netns_dir, ec)) {
    const std::string n = e.path().filename().string();
    const long pid = pid_of_netns(n);
    if (pid > 0 && !pid_is_emulator(pid) && remove_netns(n)) removed.push_back(n);
  }
  // Control sockets NAME-PID.sock of emulators that are gone.
  for (const auto& e : std::filesystem::directory_iterator(control_dir, ec)) {
    const std::string file = e.path().filename().string();
    std::string_view n = file;
    if (!n.ends_with(".sock")) continue;
    n.remove_suffix(5);
    const auto dash = n.rfind('-');
    const auto pid = dash == std::string_view::npos ? std::nullopt : parse_u64(n.substr(dash + 1));
    if (pid && *pid > 0 && !pid_is_emulator(static_cast<long>(*pid))) {
      std::filesystem::remove(e.path(), ec);
      removed.push_back(e.path().string());
    }
  }
  return removed;
}

}  // namespace ssebench::link
