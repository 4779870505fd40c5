#!/usr/bin/python3
"""report.html and compare.html of real runs, opened in headless Chromium (issue 20's "done when"):
two short runs of this build's harness (sse, poll, long-poll, ws and rest on the 9-token recording
at 8× speed), scripts/report.py --html on each and scripts/compare --html on the pair, then
bench/browser/report_check.mjs on every page: no console or page error, no request leaving the
file, every chart drawn, a hovered point naming its case, a legend click hiding a transport, the
answers there, the table sorting and filtering; --screenshot writes a PNG. And the check can
fail: a console error, a chart with nothing to draw, a remote image, a tooltip without the case's
name and a legend that hides nothing each fail it with its reason.
Skipped (77) without Chromium, node, bench/browser's packages or Debian's libjs-chart.js.
Usage: report_html_test.py BUILD_DIR (the build folder holding bench/ssebench-bench)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../.."))
BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else None
HARNESS = os.path.join(BUILD or "", "bench/ssebench-bench")
CHECK = os.path.join(ROOT, "bench/browser/report_check.mjs")
CHROMIUM = os.environ.get("SSEBENCH_CHROMIUM", "/usr/bin/chromium")
# Ten cases of about a second in all: every transport at 1 and 10 streams, poll at 50 and 250 ms.
RUN = ["--quick", "--cases=sse,poll,long-poll,ws,rest", "--poll-shapes=delta", "--http=1.1",
       "--ws-turns=1", "--speed=8", "--no-warmup"]


def missing():
    if BUILD is None or not os.path.isfile(HARNESS):
        return f"no harness at {HARNESS} (give BUILD_DIR)"
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM}"
    if shutil.which("node") is None:
        return "no node"
    if not os.path.isdir(os.path.join(ROOT, "bench/browser/node_modules/puppeteer-core")):
        return "bench/browser has no node_modules (npm ci there)"
    if not os.path.isfile("/usr/share/javascript/chart.js/chart.min.js"):
        return "no libjs-chart.js"
    return None


def run(*args, timeout=120):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, SSEBENCH_CHROMIUM=CHROMIUM))


class ReportHtml(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.runs = []
        for name in ("base", "new"):
            folder = os.path.join(cls.tmp.name, name)
            os.mkdir(folder)
            p = run(HARNESS, *RUN, f"--benchmark_out={folder}/benchmark.json",
                    "--benchmark_out_format=json")
            if p.returncode != 0:
                raise AssertionError(f"the harness failed ({p.returncode}): {p.stderr[-2000:]}")
            cls.runs.append(folder)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check(self, page, *more):
        return run("node", CHECK, page, *more)

    def test_the_run_page_opens_whole_in_chromium(self):
        p = run(sys.executable, os.path.join(ROOT, "scripts/report.py"), self.runs[0], "--html")
        self.assertEqual(p.returncode, 0, p.stderr)
        page = p.stdout.strip()
        self.assertEqual(page, os.path.join(self.runs[0], "report.html"))
        shot = os.path.join(self.tmp.name, "report.png")
        c = self.check(page, f"--screenshot={shot}")
        self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
        self.assertIn("6 charts drawn", c.stdout)
        with open(shot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        top = os.path.join(self.tmp.name, "top.png")
        c = self.check(page, f"--screenshot={top}", "--screenshot-to=charts")
        self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
        # Cut below the charts: less than the whole page (the PNG's height, in its IHDR).
        with open(shot, "rb") as f, open(top, "rb") as g:
            self.assertLess(int.from_bytes(g.read(24)[20:24], "big"),
                            int.from_bytes(f.read(24)[20:24], "big"))

    def test_the_compare_page_opens_whole_in_chromium(self):
        # The two real runs (their changes are noise: a chart or none), and the first against a
        # copy of the second with sse's TTFT doubled: a change past any threshold, charted.
        doubled = os.path.join(self.tmp.name, "doubled.json")
        with open(os.path.join(self.runs[1], "benchmark.json"), encoding="utf-8") as f:
            data = json.load(f)
        for b in data["benchmarks"]:
            if b["transport"] == "sse":
                b["ttft_ms_p50"] *= 2
        with open(doubled, "w", encoding="utf-8") as f:
            json.dump(data, f)
        for new, charts in ((self.runs[1], None), (doubled, 1)):
            out = os.path.join(self.tmp.name, "compare.html")
            p = run(sys.executable, os.path.join(ROOT, "scripts/compare"), self.runs[0], new,
                    f"--html={out}")
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(out, encoding="utf-8") as f:
                page = f.read()
            self.assertIn("What changed", page)
            c = self.check(out)
            self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
            if charts:
                self.assertIn("ttft_ms_p50", page)
                self.assertIn(f"{charts} charts drawn", c.stdout)

    def test_the_check_fails_on_a_broken_page(self):
        p = run(sys.executable, os.path.join(ROOT, "scripts/report.py"), self.runs[1], "--html")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(p.stdout.strip(), encoding="utf-8") as f:
            page = f.read()
        self.assertIn('"y": "ttft_ms_p50"', page)
        tooltip = "return items.length ? items[0].raw.c.name : '';"
        legend = "legend: {position: 'bottom',"
        self.assertIn(tooltip, page)
        self.assertIn(legend, page)
        broken = (page.replace('"y": "ttft_ms_p50"', '"y": "no_such_figure"')
                  .replace(tooltip, "return 'a point';")
                  .replace(legend, legend + " onClick: function () {},")
                  .replace("</body>", '<img src="http://127.0.0.1:9/x.png">'
                           "<script>console.error('planted')</script></body>"))
        path = os.path.join(self.tmp.name, "broken.html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(broken)
        c = self.check(path)
        self.assertEqual(c.returncode, 1, c.stdout + c.stderr)
        self.assertIn("console error: planted", c.stderr)
        self.assertIn("chart-ttft: axes but no data drawn", c.stderr)
        self.assertIn("asks the network for http://127.0.0.1:9/x.png", c.stderr)
        self.assertIn("hover: the first mark shows 'a point'", c.stderr)
        self.assertIn("legend: a click on an entry does not hide its transport", c.stderr)
        self.assertEqual(self.check(os.path.join(self.tmp.name, "none.html")).returncode, 2)


if __name__ == "__main__":
    why = missing()
    if why:
        print(f"report_html_test: skipped: {why}", file=sys.stderr)
        sys.exit(77)
    unittest.main()
