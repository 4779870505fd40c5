#!/usr/bin/python3
"""ssebench/html.py without a browser: report.py's markdown as HTML with everything escaped (a case
name or an error message is text, never markup), report.html and compare.html self-contained (no
http(s) resource, Chart.js inlined), the answers first; Chart.js missing is one line and exit 2."""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

import fixtures
from ssebench import compare, html

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "../../scripts/report.py")
COMPARE = os.path.join(HERE, "../../scripts/compare")
HOSTILE = '<img src=x onerror="alert(1)"> & </script><script>alert(2)</script>'

# A reference to something outside the file: an attribute or CSS url() pointing at http(s), an
# @import, a <link> element. Chart.js's own comments name its site in plain text, which is fine.
REMOTE = re.compile(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//"""
                    r"""|url\(\s*["']?\s*(?:https?:)?//|@import|<link\b""", re.I)


def scripts_removed(page):
    """The page without its inline scripts' bodies (Chart.js's source holds strings like
    'src=' that are code, not markup)."""
    return re.sub(r"(<script[^>]*>).*?(</script>)", r"\1\2", page, flags=re.S)


class Markdown(unittest.TestCase):
    def test_inline_forms(self):
        self.assertEqual(html.inline("a `x<y` **b** *c* [d](e/)"),
                         'a <code>x&lt;y</code> <strong>b</strong> <em>c</em> <a href="e/">d</a>')

    def test_everything_is_escaped(self):
        for text in (HOSTILE, f"`{HOSTILE}`", f"**{HOSTILE}**", f"[{HOSTILE}](x/)"):
            out = html.inline(text)
            self.assertNotIn("<img", out)
            self.assertNotIn("<script", out)
            self.assertIn("&lt;img", out)

    def test_a_link_with_a_script_scheme_is_text(self):
        out = html.inline('[click](javascript:alert(1)) [data](data:text/html,x) [q](a"b)')
        self.assertNotIn("<a", out)
        self.assertIn("click", out)
        self.assertIn("data", out)

    def test_a_quote_cannot_leave_the_href(self):
        self.assertNotIn('"x', html.inline('[a](x/"onmouseover=alert(1))'))

    def test_blocks(self):
        out = html.markdown("**Q?**\nYes. `a` < b.\n\n| h | n |\n|---|---:|\n| `r` | 1 |\n\n"
                            "- one\n- two <i>\n")
        self.assertIn("<h3>Q?</h3><p>Yes. <code>a</code> &lt; b.</p>", out.replace("\n", ""))
        self.assertIn("<th>h</th><th>n</th>", out)
        self.assertIn("<td><code>r</code></td><td class=num>1</td>", out)
        self.assertIn("<ul><li>one</li><li>two &lt;i&gt;</li></ul>", out)

    def test_json_block_cannot_close_its_script(self):
        out = html.json_block("d", {"x": HOSTILE})
        self.assertEqual(out.count("</script>"), 1)  # its own end tag only
        inner = out[out.index(">") + 1:out.rindex("</script>")]
        self.assertEqual(json.loads(inner)["x"], HOSTILE)


class Pages(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        run = fixtures.run(repetitions=1, failed=[fixtures.CASES[2]])
        for b in run["benchmarks"]:
            if b.get("error_occurred"):
                b["error_message"] = HOSTILE
        self.run_dir = fixtures.write(self.tmp.name, "run", run)

    def tearDown(self):
        self.tmp.cleanup()

    def test_the_run_page_is_self_contained_escaped_and_answers_first(self):
        p = subprocess.run([sys.executable, REPORT, self.run_dir, "--html"], capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        path = os.path.join(self.run_dir, "report.html")
        self.assertEqual(p.stdout.strip(), path)
        with open(path, encoding="utf-8") as f:
            page = f.read()
        self.assertIsNone(REMOTE.search(scripts_removed(page)), REMOTE.search(page))
        self.assertIn("Chart.js v3.9.1", page)  # inlined, not fetched
        self.assertNotIn("<img", scripts_removed(page))
        self.assertIn("&lt;img src=x", page)  # the hostile error message, as text
        answers = page.index('id="answers"')
        self.assertLess(answers, page.index('id="charts"'))
        self.assertLess(page.index('id="charts"'), page.index('id="table"'))
        self.assertLess(page.index('id="table"'), page.index('id="context"'))
        self.assertIn("Does SSE give lower latency than polling?", page)
        self.assertIn("<canvas", page)
        for axis in ("links", "TLS", "proxies", "clients", "Test CPU", "ci-runner"):
            self.assertIn(axis, page)
        # Without JavaScript the table is there as HTML: a row per case, the failed one marked.
        cases = page[page.index('id="cases"'):]
        body = cases[cases.index("<tbody>"):cases.index("</tbody>")]
        self.assertEqual(body.count("<tr"), len(fixtures.CASES))
        self.assertEqual(body.count('<tr class="failed">'), 1)

    def test_the_compare_page_says_what_changed(self):
        base = fixtures.write(self.tmp.name, "base", fixtures.run(repetitions=5, seed=1))
        new = fixtures.write(self.tmp.name, "new", fixtures.run(
            repetitions=5, seed=2, scale={(fixtures.CASES[0], "ttft_ms_p99"): 1.5}))
        out = os.path.join(self.tmp.name, "compare.html")
        plain = subprocess.run([sys.executable, COMPARE, base, new], capture_output=True,
                               text=True)
        p = subprocess.run([sys.executable, COMPARE, base, new, f"--html={out}"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, plain.stdout)  # the text output is unchanged
        with open(out, encoding="utf-8") as f:
            page = f.read()
        self.assertIsNone(REMOTE.search(scripts_removed(page)))
        self.assertIn("<strong>1 figure worse</strong>", page)
        self.assertIn("ttft_ms_p99", page)
        self.assertIn('id="chart-changes"', page)
        self.assertLess(page.index('id="answers"'), page.index('id="table"'))

    def test_no_chart_library_is_one_line_and_exit_2(self):
        saved = html.CHART_JS
        html.CHART_JS = os.path.join(self.tmp.name, "no-chart.min.js")
        try:
            with self.assertRaises(html.PageError) as e:
                html.write_run(self.run_dir)
            self.assertIn("libjs-chart.js", str(e.exception))
            self.assertFalse(os.path.exists(os.path.join(self.run_dir, "report.html")))
        finally:
            html.CHART_JS = saved

    def test_a_bad_run_is_one_line_and_exit_2(self):
        p = subprocess.run([sys.executable, REPORT, os.path.join(self.tmp.name, "nope"),
                            "--html"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "nope")))

    def test_compare_summary_counts_past_the_threshold(self):
        rows = [{"case": "a", "figure": "lag_ms_p99", "unit": "ms", "base": 10.0, "new": 20.0,
                 "change_pct": 100.0, "p": None, "n": (1, 1), "significant": None,
                 "gated": True, "regression": False},
                {"case": "a", "figure": "lag_ms_p50", "unit": "ms", "base": 1.0, "new": 1.5,
                 "change_pct": 50.0, "p": None, "n": (1, 1), "significant": None,
                 "gated": True, "regression": False}]  # +0.5 ms: under lag's 1 ms floor
        text = html.compare_summary(rows, [], [], [], 10.0, 0.05, None)
        self.assertIn("**1 figure worse** and **0 better**", text)
        self.assertIn(f"fewer than the {compare.MIN_REPETITIONS}", text)
        self.assertIn("10.00 → 20.00 ms (+100.0 %)", text)


if __name__ == "__main__":
    unittest.main()
