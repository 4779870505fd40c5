# shellcheck shell=bash
# Dependency check shared by scripts/test and scripts/bench: every need is a Debian 12 package.
# Installs what is missing with apt-get when run as root; otherwise prints the one line to run.
# Quiet when everything is present.

ssebench_build_packages=(g++ cmake make libboost1.81-dev libcurl4-openssl-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libnghttp2-dev libssl-dev python3 python3-yaml)
# The tests draw the charts too (tests/scripts/charts_test.py): matplotlib is a test need as well.
ssebench_test_packages=(python3-matplotlib iputils-ping iproute2 tshark openssl  # ping, ip netns: tests/link; tshark: crosscheck --link; openssl: crosscheck --tls's certificates
  nginx-light haproxy  # --proxy: the reverse proxies the run starts (tests/bench/harness_proxy_test.py)
  chromium)  # --client=browser: headless Chromium (tests/bench/harness_browser_test.py, tests/browser)
ssebench_test_packages+=(libjs-chart.js)  # Chart.js, inlined into report.html (tests/scripts/report_html_test.py)
ssebench_bench_packages=(python3-matplotlib iproute2 nginx-light haproxy)
ssebench_bench_packages+=(libjs-chart.js)  # Chart.js, inlined into results/<run>/report.html (ssebench/html.py)
# The image's runtime stage (Dockerfile): the shared libraries the installed harness, server and
# link emulator name that a bare debian:12 lacks (tests/k8s/dockerfile_test.py: objdump, ldd,
# dpkg -S), and python3 for merge_shards.
ssebench_runtime_packages=(libcurl4 libssl3 libbenchmark1debian libfmt9 libnghttp2-14 libstdc++6
  python3)
# --client=browser (scripts/bench installs these only when a browser client is asked for):
# Chromium, and Node.js for its driver (bench/browser, npm ci from its lock file).
ssebench_browser_packages=(chromium)
# The fuzz preset (fuzz/README.md; .ci/run builds it): clang++ 14 and its libFuzzer runtime.
ssebench_fuzz_packages=(clang libclang-rt-14-dev)
# scripts/scale: wrk drives the poll endpoint and nginx, the static-file reference for it.
ssebench_scale_packages=(wrk nginx-light)

# ssebench_require PACKAGE...: make sure every named package is installed.
ssebench_require() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "ssebench: missing Debian packages. Run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
  echo "ssebench: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq "${missing[@]}" >/tmp/ssebench-apt.log 2>&1; then
    # A fresh machine has no package lists yet: update once, then retry.
    apt-get update -qq >>/tmp/ssebench-apt.log 2>&1 || true
    apt-get install -y -qq "${missing[@]}" >>/tmp/ssebench-apt.log 2>&1 || {
      echo "ssebench: apt-get install failed; see /tmp/ssebench-apt.log" >&2
      tail -20 /tmp/ssebench-apt.log >&2
      exit 2
    }
  fi
}

# ssebench_require_node: Node.js and npm for the openai client tests. Checked by command, not by
# package: a machine may carry a vendor build of nodejs that bundles npm (no Debian npm package).
ssebench_require_node() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && return 0
  ssebench_require nodejs npm
}

# ssebench_npm_install DIR: Node.js packages from DIR's lock file (tests/compat: the official
# openai client; bench/browser: puppeteer-core for the browser driver), only when node_modules
# is missing or older than the lock.
ssebench_npm_install() {
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
      echo "ssebench: npm ci failed in $dir" >&2
      exit 2
    }
    touch "$dir/node_modules"
  fi
}
