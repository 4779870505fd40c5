#!/usr/bin/python3
"""What a chart shows (issue 23): a stacked bar's every part is visible, and no title is cut at
the figure's edge — on the narrowest figures, one transport and one recording with the longest
load text, and a crossover of one panel. And what a person reads (issue 20), on the committed
runs with the most settings and a committed sweep: no two texts of a chart overlap (their boxes
as the renderer draws them, tick labels too), the frontier labels its points and only those,
every axis label carries its unit, and every caption the run's context. Figures are checked as drawn, before they are saved."""
import os
import re
import tempfile
import unittest

import fixtures
from matplotlib.text import Text
from ssebench import charts, crossover, plot, results

REC = fixtures.REC
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
# Committed runs with many settings: 52 cases of one recording at 10 streams (every poll shape
# at two intervals, each over HTTP/1.1 and HTTP/2, ws turns:4), and 72 cases over two
# recordings, four loads and three clients.
BIG_RUNS = ["results/20261202T201752Z_eb1cb57", "results/20261204T204405Z_04cbabf"]
SWEEP = "results/20261202T153943Z_9cf2849"
# A unit, or what stands for one in a label of a count or a ratio.
UNIT = re.compile(r"(\bms\b|µs|\bs\b|\bB\b|bytes|%|×|÷|\bstreams\b|\brequests\b|segments|fraction|"
                  r"per token|per stream)")


def drawn_texts(fig):
    """Every text the figure shows: titles, labels, legends, annotations, and the tick labels
    inside their axis's view (matplotlib keeps ticks beyond it, undrawn)."""
    shown = {}
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                inside = lo - abs(lo) * 1e-9 <= tick.get_loc() <= hi + abs(hi) * 1e-9
                for text in (tick.label1, tick.label2):
                    shown[id(text)] = inside and tick.get_visible()
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
            and t.get_figure() is fig and shown.get(id(t), True)]


def overlapping(boxes):
    """The pairs of (text, box) whose boxes share more than a pixel each way."""
    out = []
    for i, (a, p) in enumerate(boxes):
        for b, q in boxes[i + 1:]:
            if min(p.x1, q.x1) - max(p.x0, q.x0) > 1 and min(p.y1, q.y1) - max(p.y0, q.y0) > 1:
                out.append((a, b))
    return out


class Drawn:
    """plot.save wrapped: each figure is drawn, and its texts and bars kept, then saved."""

    def __init__(self):
        self.figures = {}
        self._save = plot.save

    def __enter__(self):
        def save(fig, path, *args, **kwargs):
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()
            box = fig.bbox
            texts = [t for t in fig.texts if t.get_text()]
            texts += [ax.title for ax in fig.axes if ax.get_title()]
            placed = [t for ax in fig.axes for t in ax.texts if t.get_text().strip()]
            self.figures[os.path.splitext(os.path.basename(path))[0]] = {
                # Every text drawn against every other, tick labels included.
                "overlaps": overlapping([(t.get_text(), t.get_window_extent(renderer))
                                         for t in drawn_texts(fig)]),
                "placed": [t.get_text() for t in placed],
                "axis_labels": [label for ax in fig.axes
                                for label in (ax.get_xlabel(), ax.get_ylabel()) if label],
                "unlabelled_y": [ax.get_title() for ax in fig.axes if not ax.get_ylabel()],
                "caption": "\n".join(t.get_text() for t in fig.texts),
                "cut": [t.get_text() for t in texts
                        if t.get_window_extent(renderer).x0 < box.x0 - 1
                        or t.get_window_extent(renderer).x1 > box.x1 + 1],
                "axes": [(ax.get_yscale(), ax.get_ylim(),
                          [(p.get_y(), p.get_height()) for p in ax.patches])
                         for ax in fig.axes]}
            return self._save(fig, path, *args, **kwargs)
        plot.save = save
        return self

    def __exit__(self, *exc):
        plot.save = self._save


def cases_of(data, tmp):
    return results.load(fixtures.write(tmp, "run", data))


class Layout(unittest.TestCase):
    def test_stacked_parts_are_visible_and_titles_fit(self):
        # rest's client CPU is 50 times below poll's server CPU: on a log axis with poll's scale
        # the floor hid it. An open-loop load makes the longest title.
        names = [f"rest/{REC}/rate:2/max_conc:6", f"sse/{REC}/rate:2/max_conc:6"]
        data = fixtures.run(cases=names, repetitions=1, noise=0, counters={
            names[0]: {"client_cpu_us_per_token": 0.5, "server_cpu_us_per_token": 400.0,
                       "wire_bytes_in_per_token": 3.0, "wire_bytes_out_per_token": 900.0}})
        with tempfile.TemporaryDirectory() as tmp, Drawn() as drawn:
            context, cases = cases_of(data, tmp)
            charts.draw_all(context, cases, tmp)
        for name in ("lag", "bytes_per_token", "cpu_per_token"):
            with self.subTest(chart=name):
                self.assertEqual(drawn.figures[name]["cut"], [])
        for name in ("bytes_per_token", "cpu_per_token"):
            for scale, (low, high), bars in drawn.figures[name]["axes"]:
                self.assertEqual(scale, "linear", name)
                for y, h in bars:
                    if h > 0:  # the part's span inside the axis, and not a hair of it
                        shown = min(y + h, high) - max(y, low)
                        self.assertGreater(shown, 0, (name, y, h, low, high))
        with self.assertRaisesRegex(ValueError, "log axis"):
            charts.grouped(cases, os.path.join(tmp, "x.png"), "t", "y",
                           [("client_cpu_us_per_token", "a", 1),
                            ("server_cpu_us_per_token", "b", 1)], log=True)

    def test_the_crossover_title_fits_one_panel(self):
        names = [f"sse/{REC}/c:1"] + [f"poll/{REC}/c:1/interval_ms:{p}/shape:delta"
                                      for p in fixtures.INTERVALS]
        counters = {n: {"wire_bytes_in_per_token": 400 * (100 / p) ** 0.2,
                        "server_cpu_us_per_token": 17 * 40 / p}
                    for n, p in zip(names[1:], fixtures.INTERVALS)}
        data = fixtures.run(cases=names, repetitions=1, noise=0, counters=counters)
        with tempfile.TemporaryDirectory() as tmp, Drawn() as drawn:
            context, cases = cases_of(data, tmp)
            rows = crossover.find(cases)
            self.assertTrue(rows)
            crossover.chart(context, rows, tmp)
        self.assertEqual(len(drawn.figures["crossover"]["axes"]), 1)
        self.assertEqual(drawn.figures["crossover"]["cut"], [])

    def test_wrap_keeps_every_word_and_breaks_only_when_needed(self):
        text = "a short line\n" + "word " * 40
        wrapped = plot.wrap(text, 4, 10)
        self.assertEqual(wrapped.split(), text.split())
        self.assertEqual(wrapped.splitlines()[0], "a short line")
        self.assertGreater(len(wrapped.splitlines()), 2)
        self.assertEqual(plot.wrap("one line", 4, 10), "one line")


class Readable(unittest.TestCase):
    """The charts of the committed runs with the most settings."""

    @classmethod
    def setUpClass(cls):
        cls.drawn = {}
        with tempfile.TemporaryDirectory() as tmp:
            for run in BIG_RUNS:
                with Drawn() as drawn:
                    context, cases = results.load(os.path.join(ROOT, run))
                    cases = [c for c in cases if c["counters"].get("streams", 0) > 0]
                    charts.draw_all(context, cases, tmp)
                    rows = crossover.find(cases)
                    if rows:
                        crossover.chart(context, rows, tmp)
                cls.drawn[run] = (context, cases, drawn.figures)

    def test_no_two_texts_of_the_frontier_overlap(self):
        for run, (_, _, figures) in self.drawn.items():
            with self.subTest(run=run):
                frontier = figures["frontier"]
                self.assertGreater(len(frontier["placed"]), 4)
                self.assertEqual(frontier["overlaps"], [])
                self.assertNotIn("also on the frontier", " ".join(frontier["placed"]))

    def test_no_two_crossing_labels_overlap(self):
        # A committed sweep (four recordings, seven intervals, four shapes): eight crossings
        # within 680–930 ms on one panel.
        with tempfile.TemporaryDirectory() as tmp, Drawn() as drawn:
            context, cases = results.load(os.path.join(ROOT, SWEEP))
            crossover.chart(context, crossover.find(cases), tmp)
        chart = drawn.figures["crossover"]
        self.assertGreater(len(chart["placed"]), 10)
        self.assertEqual(chart["overlaps"], [])
        self.assertEqual(chart["cut"], [])
        for label in chart["axis_labels"]:
            self.assertRegex(label, UNIT)

    def test_the_link_charts_carry_units_and_context(self):
        import link_fixtures
        with tempfile.TemporaryDirectory() as tmp, Drawn() as drawn:
            run = link_fixtures.write(tmp, "run", link_fixtures.run(tmp))
            context, cases = results.load(run)
            charts.draw_all(context, cases, tmp)
        links = [n for n in drawn.figures if n.startswith("link_")]
        self.assertTrue(links)
        for name, fig in drawn.figures.items():
            with self.subTest(chart=name):
                self.assertEqual(fig["unlabelled_y"], [])
                for label in fig["axis_labels"]:
                    self.assertRegex(label, UNIT)
                self.assertIn("commit 0000000", fig["caption"])
                self.assertEqual(fig["overlaps"], [])

    def test_only_the_frontier_is_labelled(self):
        # eb1cb57 at 10 streams: sse beaten on bytes and CPU by ws turns:4, poll 250 ms openai
        # by poll 250 ms delta: neither is labelled; rest, the cheapest, is.
        placed = self.drawn[BIG_RUNS[0]][2]["frontier"]["placed"]
        flat = [p.replace("\n", " ") for p in placed]
        self.assertIn("rest", flat)
        self.assertIn("ws turns:4", flat)
        self.assertNotIn("sse", flat)
        self.assertNotIn("poll 250 ms openai", flat)
        self.assertEqual(tradeoff_pareto([(1, 5), (2, 2), (3, 3), (5, 1), (2, 2.5)]), [0, 1, 3])

    def test_no_two_texts_of_any_chart_overlap(self):
        for run, (_, _, figures) in self.drawn.items():
            for name, fig in figures.items():
                with self.subTest(run=run, chart=name):
                    self.assertEqual(fig["overlaps"], [])

    def test_every_axis_label_carries_its_unit(self):
        for run, (_, _, figures) in self.drawn.items():
            for name, fig in figures.items():
                with self.subTest(run=run, chart=name):
                    self.assertEqual(fig["unlabelled_y"], [])
                    for label in fig["axis_labels"]:
                        self.assertRegex(label, UNIT)

    def test_every_caption_names_the_machine_commit_and_load(self):
        for run, (context, cases, figures) in self.drawn.items():
            commit = context["ssebench_commit"]
            for name, fig in figures.items():
                with self.subTest(run=run, chart=name):
                    self.assertIn(commit, fig["caption"])
                    self.assertIn(f"load {context['load_avg'][0]:.1f}", fig["caption"])
        # 04cbabf ran three clients: said in the caption.
        _, _, figures = self.drawn[BIG_RUNS[1]]
        self.assertIn("client harness, browser, browser-eventsource", figures["frontier"]["caption"])


def tradeoff_pareto(points):
    from ssebench import tradeoff
    return tradeoff.pareto(points)


if __name__ == "__main__":
    unittest.main()
