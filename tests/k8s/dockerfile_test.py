#!/usr/bin/python3
"""The Dockerfile stays honest without a registry to build it (docs/k8s.md, "The image"): both
stages start from debian:12 and install their packages with scripts/lib/deps.sh's ssebench_require
and its lists, naming no package themselves; every COPY source is in the build context; and the
runtime list covers what the installed binaries load: the libraries this build's harness, server
and link emulator name (objdump NEEDED, found by ldd) -> dpkg -S -> each package in
ssebench_runtime_packages or in every debian:12 (essential, or what an essential package depends
on), and the list holds nothing else but python3, whose /usr/bin/python3 runs merge_shards.
Usage: dockerfile_test.py BUILD_DIR"""
import fnmatch
import functools
import os
import re
import shlex
import subprocess
import sys
import unittest

BUILD = os.path.abspath(sys.argv.pop(1))
SOURCE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
DEPS = os.path.join(SOURCE, "scripts/lib/deps.sh")
BINARIES = ("bench/ssebench-bench", "mock_server/ssebench-mock-server", "link/ssebench-link")
# What the build stage reads from the context besides the COPY sources' files.
BUILD_NEEDS = ("CMakeLists.txt", "CMakePresets.json", "cmake", "core", "bench", "mock_server",
               "link", "recorder", "recordings", "scripts")


def package_lists():
    """{list name: [package, ...]} of every ssebench_*_packages array deps.sh defines."""
    script = (f"source {shlex.quote(DEPS)}; for v in ${{!ssebench_@}}; do "
              'case $v in *_packages) declare -n a=$v; echo "$v ${a[*]}"; unset -n a;; esac; done')
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    return {line.split()[0]: line.split()[1:] for line in out.splitlines()}


def instructions(path):
    """(instruction, arguments) of a Dockerfile: continuation lines joined, comments left out."""
    with open(path) as f:
        text = re.sub(r"\\\n(\s*#.*\n)*", " ", "".join(l for l in f if not l.lstrip().startswith("#")))
    return [tuple(l.strip().split(None, 1)) for l in text.splitlines() if l.strip()]


@functools.lru_cache(maxsize=None)
def owner(path):
    """The Debian package holding a file, through the /lib -> /usr/lib merge and symlinks."""
    real = os.path.realpath(path)
    for p in dict.fromkeys((path, "/usr" + path, real, real.removeprefix("/usr"))):
        out = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def base_packages():
    """What every debian:12 holds: the essential packages and what they depend on."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Essential}\n"],
                         capture_output=True, text=True, check=True).stdout
    essential = [l.split()[0] for l in out.splitlines() if l.endswith(" yes")]
    out = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                          "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
                          *essential], capture_output=True, text=True, check=True).stdout
    return set(essential) | set(re.findall(r"^(?:\s+\|?(?:Pre)?Depends: )?([\w.+-]+)", out, re.M))


def needed(binary):
    """{soname: path} of the libraries the binary itself names (its NEEDED entries), where ldd
    finds them; the libraries' own come with their packages' dependencies."""
    names = re.findall(r"NEEDED\s+(\S+)", subprocess.run(
        ["objdump", "-p", binary], capture_output=True, text=True, check=True).stdout)
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (/\S+)", out, re.M))
    return {n: paths.get(n) for n in names}


def depends(package):
    """The packages `package` depends on directly (apt-cache depends), alternatives included."""
    out = subprocess.run(["apt-cache", "depends", "--important", package], capture_output=True,
                         text=True).stdout
    return set(re.findall(r"Depends: <?([\w.+-]+)", out))


class Dockerfile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lists = package_lists()
        cls.steps = instructions(os.path.join(SOURCE, "Dockerfile"))
        with open(os.path.join(SOURCE, ".dockerignore")) as f:
            cls.ignored = [l.strip() for l in f if l.strip() and not l.startswith("#")]

    def test_the_lists_are_read_by_name(self):
        self.assertIn("ssebench_build_packages", self.lists)
        self.assertIn("ssebench_runtime_packages", self.lists)
        self.assertIn("python3", self.lists["ssebench_runtime_packages"])

    def test_two_debian_12_stages_each_installing_a_list_of_deps_sh(self):
        stages = [args for op, args in self.steps if op == "FROM"]
        self.assertEqual([s.split()[0] for s in stages], ["debian:12", "debian:12"])
        runs_by_stage, stage = [[], []], -1
        for op, args in self.steps:
            stage += op == "FROM"
            if op == "RUN":
                runs_by_stage[stage].append(args)
        for wanted, runs in zip(("ssebench_build_packages", "ssebench_runtime_packages"),
                                runs_by_stage):
            with self.subTest(list=wanted):
                self.assertTrue(any(re.search(r"\. /tmp/deps\.sh && .*ssebench_require "
                                              r'"\$\{' + wanted + r'\[@\]\}"', r) for r in runs),
                                runs)

    def test_no_package_is_named_in_the_dockerfile(self):
        # Packages come only through ssebench_require, and it is given only lists of deps.sh.
        calls = 0
        for op, args in self.steps:
            if op != "RUN":
                continue
            self.assertNotRegex(args, r"apt(-get)? +install|dpkg +-i|pip3? +install",
                                "packages are installed by ssebench_require from the lists")
            for call in re.findall(r"ssebench_require([^&;|']*)", args):
                calls += 1
                lists = re.findall(r'"\$\{(\w+)\[@\]\}"', call)
                self.assertEqual(call.split(), [f'"${{{l}[@]}}"' for l in lists], call)
                self.assertTrue(set(lists) <= set(self.lists), call)
        self.assertEqual(calls, 2)

    def test_every_copy_source_is_in_the_build_context(self):
        copies = [args.split() for op, args in self.steps if op == "COPY"]
        self.assertTrue(copies)
        from_build = [c for c in copies if c[0].startswith("--from=")]
        install_prefixes = re.findall(r"cmake --install \S+ --prefix (\S+)",
                                      " ".join(a for op, a in self.steps if op == "RUN"))
        for c in copies:
            if c in from_build:
                self.assertIn(c[1], install_prefixes, f"COPY {' '.join(c)}")
                continue
            for src in c[:-1]:
                with self.subTest(src=src):
                    self.assertTrue(os.path.exists(os.path.join(SOURCE, src)), src)
                    self.assertFalse(self.excluded(src), f"{src} is in .dockerignore")
        for need in BUILD_NEEDS:
            with self.subTest(need=need):
                self.assertTrue(os.path.exists(os.path.join(SOURCE, need)), need)
                self.assertFalse(self.excluded(need), f"{need} is in .dockerignore")

    def excluded(self, path):
        path = os.path.normpath(path)
        return path != "." and any(fnmatch.fnmatch(path, p) or
                                   fnmatch.fnmatch(path, p.removeprefix("**/")) or
                                   path.startswith(p.rstrip("/") + "/") for p in self.ignored)

    # The sanitizers' runtimes, which only a sanitizer build (the asan preset) loads.
    SANITIZER_RUNTIME = re.compile(r"lib(a|ub|l|t|hwa)san\.so")

    def test_the_runtime_list_covers_the_binaries_libraries(self):
        runtime = set(self.lists["ssebench_runtime_packages"])
        base = base_packages()
        self.assertIn("libc6", base)
        seen = set()
        for b in BINARIES:
            libs = needed(os.path.join(BUILD, b))
            self.assertIn("libc.so.6", libs)
            for lib, path in libs.items():
                if self.SANITIZER_RUNTIME.match(lib):
                    continue  # the asan preset's (scripts/test --preset asan); the image is Release
                with self.subTest(binary=b, lib=lib):
                    self.assertIsNotNone(path, f"{b}: ldd does not find {lib}")
                    pkg = owner(path)
                    self.assertIsNotNone(pkg, f"{path}: no package holds it")
                    seen.add(pkg)
                    self.assertTrue(pkg in runtime or pkg in base,
                                    f"{b} loads {lib} of {pkg}: add it to ssebench_runtime_packages")
        # And nothing more: each package a binary loads, but python3 for merge_shards.
        self.assertEqual(runtime - seen, {"python3"})

    def test_merge_shards_interpreter_comes_with_the_list(self):
        with open(os.path.join(SOURCE, "scripts/merge_shards")) as f:
            interpreter = f.readline()[2:].split()[0]
        pkg = owner(interpreter)
        runtime = set(self.lists["ssebench_runtime_packages"])
        self.assertTrue(pkg in runtime or any(pkg in depends(r) for r in runtime),
                        f"{interpreter} is {pkg}'s, not in or below ssebench_runtime_packages")


if __name__ == "__main__":
    unittest.main()
