#!/usr/bin/python3
"""What a chart shows (issue 23): a stacked bar's every part is visible, and no title is cut at
the figure's edge — on the narrowest figures, one transport and one recording with the longest
load text, and a crossover of one panel. Figures are checked as drawn, before they are saved."""
import os
import tempfile
import unittest

import fixtures
from ssebench import charts, crossover, plot, results

REC = fixtures.REC


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
            self.figures[os.path.splitext(os.path.basename(path))[0]] = {
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


if __name__ == "__main__":
    unittest.main()
