#!/usr/bin/python3
"""The Kubernetes recipe (docs/k8s/, docs/k8s.md) without a cluster: every manifest parses, raw
and rendered by scripts/k8s; once rendered, N is the same in the Job's completions and
parallelism and in the SHARDS both the shard and the merge commands read; the Service's name and
port are the harness's --server URL and the server's --port; names, paths and images agree.
Then the commands themselves, on this build installed (cmake --install) where the image has it,
/opt/ssebench: the server's command line serves /mock/stats (the readiness probe); the shard
command runs the installed harness with the rendered flags, passing --check-flags, and leaves
its exit-status marker (a failure's too); run for real on a tiny load against a local server,
N shard commands leave runs the merge command merges, and the merge command refuses a shard
marked failed or one whose marker never comes.
Usage: recipe_test.py BUILD_DIR"""
import datetime
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import yaml

from ssebench import k8s

BUILD = os.path.abspath(sys.argv.pop(1))
SOURCE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
PREFIX = "/opt/ssebench"  # where the Dockerfile installs, which the manifests name
N = 3
# The tiny load the real shard runs get in place of the recipe's: every shard a stream a round.
TINY = ("--cases=sse --models=chat-gpt-4o-mini-text --concurrency=3 --http=1.1 --speed=8 "
        "--no-warmup")


def load(text):
    return [d for d in yaml.safe_load_all(text) if d]


def by_kind(docs, kind, name):
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_spec(obj):
    return obj["spec"]["template"]["spec"] if "template" in obj["spec"] else obj["spec"]


def env(container):
    return {e["name"]: e["value"] for e in container.get("env", [])}


def flag(args, name):
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    assert len(values) == 1, f"--{name}: {values} in {args}"
    return values[0]


class Recipe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ssebench-k8s-")
        cls.start = (datetime.datetime.now(datetime.timezone.utc)
                     + datetime.timedelta(hours=1)).replace(microsecond=0)
        out = os.path.join(cls.tmp.name, "rendered")
        p = subprocess.run([os.path.join(SOURCE, "scripts/k8s"), f"--shards={N}", "--run=t1",
                            f"--start-at={k8s.iso(cls.start)}", "--image=ssebench:test",
                            "--storage-class=rwx", "--wait-s=900", f"--out={out}"],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        cls.printed = p.stdout
        cls.files = {}
        for m in k8s.MANIFESTS:
            with open(os.path.join(out, m)) as f:
                cls.files[m] = f.read()
        cls.docs = [d for m in k8s.MANIFESTS for d in load(cls.files[m])]
        cls.server = by_kind(cls.docs, "Deployment", "ssebench-server")
        cls.service = by_kind(cls.docs, "Service", "ssebench-server")
        cls.shards = by_kind(cls.docs, "Job", "ssebench-shards")
        cls.merge = by_kind(cls.docs, "Job", "ssebench-merge")
        cls.shard_c = pod_spec(cls.shards)["containers"][0]
        cls.merge_c = pod_spec(cls.merge)["containers"][0]
        cls.server_c = pod_spec(cls.server)["containers"][0]
        # This build installed as the image has it, at a temporary prefix.
        cls.prefix = os.path.join(cls.tmp.name, "opt")
        p = subprocess.run(["cmake", "--install", BUILD, "--prefix", cls.prefix],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def local(self, arg):
        """An argument naming the image's /opt/ssebench, at this test's prefix."""
        return arg.replace(PREFIX, self.prefix)

    # --- the manifests -----------------------------------------------------------------------

    def test_every_manifest_parses_raw_and_rendered(self):
        for path in sorted(glob.glob(os.path.join(SOURCE, "docs/k8s/*.yaml"))):
            with self.subTest(path=path), open(path) as f:
                docs = load(f.read())
                self.assertTrue(docs)
                self.assertTrue(all("kind" in d for d in docs))
        self.assertEqual(sorted(os.path.basename(p) for p in
                                glob.glob(os.path.join(SOURCE, "docs/k8s/*.yaml"))),
                         sorted([*k8s.MANIFESTS, "kind-cluster.yaml", "kind-pv.yaml"]))
        for m, text in self.files.items():
            self.assertNotIn("${", text, m)

    def test_n_is_one_value_everywhere(self):
        spec = self.shards["spec"]
        self.assertEqual(spec["completionMode"], "Indexed")
        self.assertEqual(spec["completions"], N)
        self.assertEqual(spec["parallelism"], N)
        self.assertEqual(env(self.shard_c)["SHARDS"], str(N))
        self.assertEqual(env(self.merge_c)["SHARDS"], str(N))
        self.assertIn("--shard=$JOB_COMPLETION_INDEX/$SHARDS", self.shard_c["args"][0])
        self.assertIn(f"{N} shards", self.printed)

    def test_the_run_and_its_start_are_the_same_for_shards_and_merge(self):
        self.assertEqual(env(self.shard_c)["RUN"], "t1")
        self.assertEqual(env(self.merge_c)["RUN"], "t1")
        self.assertEqual(env(self.shard_c)["START_AT"], k8s.iso(self.start))
        self.assertEqual(env(self.merge_c)["WAIT_S"], "900")
        self.assertIn("--start-at=$START_AT", self.shard_c["args"][0])

    def test_the_service_is_the_harness_url_and_the_server_port(self):
        url = urllib.parse.urlsplit(env(self.shard_c)["SERVER"])
        port = self.service["spec"]["ports"][0]
        self.assertEqual(url.hostname, self.service["metadata"]["name"])
        self.assertEqual(url.port, port["port"])
        container_port = next(p for p in self.server_c["ports"] if p["name"] == port["targetPort"])
        self.assertEqual(container_port["containerPort"], int(flag(self.server_c["command"], "port")))
        self.assertEqual(flag(self.server_c["command"], "bind"), "0.0.0.0")
        self.assertEqual(self.service["spec"]["selector"],
                         self.server["spec"]["template"]["metadata"]["labels"])
        probe = self.server_c["readinessProbe"]["httpGet"]
        self.assertEqual((probe["path"], probe["port"]), ("/mock/stats", port["targetPort"]))
        # The shards keep off the server's node.
        term = pod_spec(self.shards)["affinity"]["podAntiAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"][0]
        self.assertEqual(term["labelSelector"]["matchLabels"], self.service["spec"]["selector"])

    def test_whole_cores_and_threads_to_match(self):
        shard = self.shard_c["resources"]
        self.assertEqual(shard["requests"], shard["limits"])
        self.assertRegex(shard["limits"]["cpu"], r"^[1-9][0-9]*$")
        self.assertEqual(flag(env(self.shard_c)["LOAD"].split(), "client-threads"),
                         shard["limits"]["cpu"])
        server = self.server_c["resources"]
        self.assertEqual(server["requests"], server["limits"])
        self.assertEqual(flag(self.server_c["command"], "threads"), server["limits"]["cpu"])

    def test_one_volume_one_image(self):
        pods = [o for o in self.docs if o["kind"] in ("Deployment", "Job", "Pod")]
        claim = by_kind(self.docs, "PersistentVolumeClaim", "ssebench-results")
        self.assertEqual(claim["spec"]["accessModes"], ["ReadWriteMany"])
        self.assertEqual(claim["spec"]["storageClassName"], "rwx")
        for o in pods:
            with self.subTest(obj=o["metadata"]["name"]):
                spec = pod_spec(o)
                self.assertEqual({c["image"] for c in spec["containers"]}, {"ssebench:test"})
                if o["metadata"]["name"] == "ssebench-server":
                    continue
                self.assertEqual(spec["volumes"], [{"name": "shared", "persistentVolumeClaim":
                                                    {"claimName": "ssebench-results"}}])
                mount = spec["containers"][0]["volumeMounts"][0]["mountPath"]
                self.assertEqual(env(spec["containers"][0]).get("RESULTS", mount), mount)
        self.assertIn("kubectl cp ssebench-fetch:/shared/t1 results/t1", self.printed)

    # --- the commands ------------------------------------------------------------------------

    def start_server(self):
        """The Deployment's command line, on loopback and port 0 here, at this test's prefix."""
        cmd = [self.local(a) for a in self.server_c["command"]]
        cmd = ["--bind=127.0.0.1" if a.startswith("--bind=") else
               "--port=0" if a.startswith("--port=") else a for a in cmd]
        cmd[0] = os.path.join(self.prefix, "bin", cmd[0])
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        if not line.startswith("listening on "):
            p.kill()
            self.fail(f"the server said {line!r}: {p.stderr.read()}")
        self.addCleanup(p.stderr.close)
        self.addCleanup(p.stdout.close)
        self.addCleanup(p.wait)
        self.addCleanup(p.terminate)
        return line.split()[-1]

    def test_the_server_command_serves_the_readiness_probe(self):
        url = self.start_server()
        path = self.server_c["readinessProbe"]["httpGet"]["path"]
        with urllib.request.urlopen(url + path, timeout=5) as r:
            self.assertEqual(r.status, 200)
            json.load(r)

    def shard_command(self, index, results, harness=None, **overrides):
        p = self.shard_pod(index, results, harness, **overrides)
        p.stdout, p.stderr = p.communicate(timeout=120)
        return p

    def shard_pod(self, index, results, harness=None, **overrides):
        """The Job's container command for pod `index` started, its env as rendered but for
        overrides, the installed tree on PATH (a stand-in `harness` script first, if given)."""
        e = dict(env(self.shard_c), JOB_COMPLETION_INDEX=str(index), RESULTS=results,
                 **overrides)
        path = os.path.join(self.prefix, "bin") + os.pathsep + "/usr/bin:/bin"
        if harness:
            stub = os.path.join(self.tmp.name, f"stub-{index}")
            os.makedirs(stub, exist_ok=True)
            with open(os.path.join(stub, "ssebench-bench"), "w") as f:
                f.write("#!/bin/sh\n" + harness)
            os.chmod(os.path.join(stub, "ssebench-bench"), 0o755)
            path = stub + os.pathsep + path
        e["PATH"] = path
        c = self.shard_c
        return subprocess.Popen([*c["command"], *c["args"]], env=e, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def merge_command(self, results, **overrides):
        e = dict(env(self.merge_c), RESULTS=results, POLL_S="0.2", **overrides)
        e["PATH"] = os.path.join(self.prefix, "bin") + os.pathsep + "/usr/bin:/bin"
        c = self.merge_c
        return subprocess.run([*c["command"], *c["args"]], env=e, capture_output=True, text=True,
                              timeout=120)

    def marker(self, results, index):
        with open(os.path.join(results, "t1", f"shard-{index}", "exit-status")) as f:
            return f.read().strip()

    def test_the_shard_command_passes_check_flags_and_leaves_its_marker(self):
        results = os.path.join(self.tmp.name, "check")
        args_file = os.path.join(self.tmp.name, "harness-args")
        installed = os.path.join(self.prefix, "bin/ssebench-bench")
        p = self.shard_command(1, results, harness=f'printf "%s\\n" "$@" >{args_file}\n'
                               f'exec {installed} "$@" --check-flags\n')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"\d+ cases? of the \w+ suite, planned")
        self.assertEqual(self.marker(results, 1), "0")
        with open(args_file) as f:
            args = f.read().split("\n")[:-1]
        self.assertEqual(flag(args, "server"), env(self.shard_c)["SERVER"])
        self.assertEqual(flag(args, "shard"), f"1/{N}")
        self.assertEqual(flag(args, "start-at"), k8s.iso(self.start))
        self.assertEqual(flag(args, "benchmark_out"),
                         os.path.join(results, "t1/shard-1/benchmark.json"))
        # A harness that fails leaves its status too, and the pod fails with it.
        p = self.shard_command(1, results, harness="exit 3\n")
        self.assertEqual(p.returncode, 3)
        self.assertEqual(self.marker(results, 1), "3")

    def test_real_shards_merge_and_a_failed_or_missing_one_is_refused(self):
        url = self.start_server()
        results = os.path.join(self.tmp.name, "real")
        start = k8s.iso((datetime.datetime.now(datetime.timezone.utc)
                         + datetime.timedelta(seconds=4)).replace(microsecond=0))
        # The N pods at once, as the Job starts them, on one common start.
        pods = [self.shard_pod(i, results, SERVER=url, LOAD=TINY, START_AT=start)
                for i in range(N)]
        for i, p in enumerate(pods):
            _, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err[-2000:])
            self.assertEqual(self.marker(results, i), "0")
        run = os.path.join(results, "t1")
        p = self.merge_command(results)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"merged {N} of {N} shards", p.stdout)
        with open(os.path.join(run, "merged/benchmark.json")) as f:
            merged = json.load(f)
        self.assertEqual(merged["context"]["start_at"], start)
        streams = [b for b in merged["benchmarks"] if not b.get("error_occurred")]
        self.assertTrue(streams)

        # One shard marked failed: refused at once, nothing merged.
        os.rename(os.path.join(run, "merged"), os.path.join(run, "merged-ok"))
        with open(os.path.join(run, "shard-1/exit-status"), "w") as f:
            f.write("1\n")
        started = time.monotonic()
        p = self.merge_command(results)
        self.assertEqual(p.returncode, 1)
        self.assertIn("shard 1 (exit 1); not merging", p.stderr)
        self.assertLess(time.monotonic() - started, 5)
        self.assertFalse(os.path.exists(os.path.join(run, "merged")))

        # One marker missing: it waits WAIT_S, then refuses; a marker that comes in time merges.
        with open(os.path.join(run, "shard-1/exit-status"), "w") as f:
            f.write("0\n")
        os.remove(os.path.join(run, "shard-2/exit-status"))
        p = self.merge_command(results, WAIT_S="1")
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"{N - 1} of {N} shards done after 1 s; not merging", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(run, "merged")))
        late = subprocess.Popen(["sh", "-c", f"sleep 1; echo 0 >{run}/shard-2/exit-status"])
        p = self.merge_command(results, WAIT_S="30")
        late.wait()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.isfile(os.path.join(run, "merged/benchmark.json")))


if __name__ == "__main__":
    unittest.main()
