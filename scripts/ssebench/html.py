"""report.html and compare.html: one self-contained page per run (or pair of runs) that opens from
disk with no network. The answers first (report.py's section, converted from its markdown), then
the charts (Chart.js from Debian's libjs-chart.js, inlined when the page is written; hover a point
for its case, click a legend entry to hide a transport), then the whole table (sortable,
filterable), then the run's context. Without JavaScript the answers and the table still show.

Everything from the run is escaped: a case name or error message is text, never markup; the data
the charts read sits in a JSON script block with `</` escaped."""
import html
import json
import math
import os
import re

from . import compare as comparing, figures, report, results, table

CHART_JS = "/usr/share/javascript/chart.js/chart.min.js"
CHART_JS_PACKAGE = "libjs-chart.js"
# The compare page's sentences: a change past this many % (and past the figure's floor) counts,
# unless scripts/compare's --fail-on-regression gives another.
COMPARE_THRESHOLD_PCT = 10.0
# The compare page's chart: at most this many of the largest changes, so the bars stay readable.
COMPARE_CHART_ROWS = 24


class PageError(ValueError):
    """The page cannot be written (Chart.js missing, a folder that is not there): one line for
    the command, exit 2."""


# Markdown -> HTML: the subset report.py writes --------------------------------------------------

_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\*([^*\s][^*]*?)\*|\[([^\]]+)\]\(([^)\s]+)\)")
_SAFE_HREF = re.compile(r"^(?![a-zA-Z][a-zA-Z0-9+.-]*:)[^\s\"'<>]*$|^https?://[^\s\"'<>]+$")


def inline(text):
    """One line of markdown (`code`, **bold**, *em*, [text](href)) to HTML; everything else,
    and everything inside, escaped. A link whose target has a scheme other than http(s)
    (javascript:, data:) is shown as its text only."""
    out, at = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[at:m.start()]))
        code, bold, em, label, href = m.groups()
        if code is not None:
            out.append(f"<code>{html.escape(code)}</code>")
        elif bold is not None:
            out.append(f"<strong>{inline(bold)}</strong>")
        elif em is not None:
            out.append(f"<em>{inline(em)}</em>")
        elif _SAFE_HREF.match(href):
            out.append(f'<a href="{html.escape(href)}">{inline(label)}</a>')
        else:
            out.append(inline(label))
        at = m.end()
    out.append(html.escape(text[at:]))
    return "".join(out)


def _cells(line):
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [c.strip() for c in line.split("|")]


def _table(lines):
    head = _cells(lines[0])
    rule = _cells(lines[1]) if len(lines) > 1 else []
    if not all(re.fullmatch(r":?-{3,}:?", c) for c in rule):
        return None
    right = [c.endswith(":") for c in rule]
    out = ['<div class="scroll"><table class="md"><thead><tr>']
    out += [f"<th>{inline(c)}</th>" for c in head]
    out.append("</tr></thead><tbody>")
    for line in lines[2:]:
        out.append("<tr>" + "".join(
            f'<td{" class=num" if i < len(right) and right[i] else ""}>{inline(c)}</td>'
            for i, c in enumerate(_cells(line))) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def markdown(text):
    """report.py's markdown to HTML: paragraphs, a line all in **bold** as a heading, `- ` lists,
    pipe tables, and the inline forms of inline()."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        if all(ln.lstrip().startswith("|") for ln in lines) and len(lines) >= 2:
            t = _table(lines)
            if t:
                out.append(t)
                continue
        if all(ln.startswith("- ") for ln in lines):
            out.append("<ul>" + "".join(f"<li>{inline(ln[2:])}</li>" for ln in lines) + "</ul>")
            continue
        para = []
        for ln in lines:
            if re.fullmatch(r"\*\*[^*]+\*\*", ln.strip()):
                if para:
                    out.append(f"<p>{' '.join(para)}</p>")
                    para = []
                out.append(f"<h3>{inline(ln.strip()[2:-2])}</h3>")
            else:
                para.append(inline(ln))
        if para:
            out.append(f"<p>{' '.join(para)}</p>")
    return "\n".join(out)


# The page's parts -------------------------------------------------------------------------------

def chart_js():
    """Chart.js's source, safe inside a <script> element."""
    try:
        with open(CHART_JS, encoding="utf-8") as f:
            src = f.read()
    except OSError:
        raise PageError(f"{CHART_JS} is missing: install Debian's {CHART_JS_PACKAGE} "
                        f"(apt-get install {CHART_JS_PACKAGE})") from None
    return src.replace("</script", "<\\/script")


def json_block(element_id, data):
    text = json.dumps(data, ensure_ascii=False, allow_nan=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _finite(v):
    return v if isinstance(v, (int, float)) and math.isfinite(v) else None


def html_table(head, rows, table_id, numeric_from=1, classes=None):
    """A sortable, filterable table (the page's script does both; without it the table reads as
    it is). classes: per row, a CSS class or ''."""
    out = [f'<div class="scroll"><table class="data" id="{table_id}"><thead><tr>']
    for i, h in enumerate(head):
        kind = "num" if i >= numeric_from else "text"
        out.append(f'<th data-kind="{kind}" title="click to sort">{html.escape(h)}</th>')
    out.append("</tr></thead><tbody>")
    for j, r in enumerate(rows):
        cls = (classes or [""] * len(rows))[j]
        out.append(f'<tr class="{cls}">' if cls else "<tr>")
        for i, c in enumerate(r):
            out.append(f'<td class="num">{html.escape(c)}</td>' if i >= numeric_from
                       else f"<td>{html.escape(c)}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def filter_box(table_id, what):
    return (f'<p class="filter"><label>Filter {what}: <input type="search" '
            f'data-filter="{table_id}" '
            f'placeholder="e.g. poll/250 or 4o-mini"></label> <span class="count" '
            f'data-count="{table_id}"></span></p>')


CONTEXT_FIELDS = [  # (label, context keys tried in order)
    ("date", ("date",)),
    ("commit", ("ssebench_commit",)),
    ("build type", ("ssebench_build_type", "library_build_type")),
    ("machine", ("host_name",)),
    ("CPU", ("cpu_model",)),
    ("cores", ("cores", "num_cpus")),
    ("MHz per CPU", ("mhz_per_cpu",)),
    ("kernel", ("kernel",)),
    ("compiler", ("compiler",)),
    ("load average (1, 5, 15 min)", ("load_avg",)),
    ("interface", ("interface",)),
    ("MTU, bytes", ("interface_mtu_bytes",)),
    ("replay speed", ("speed",)),
    ("rounds per case", ("rounds_per_case",)),
    ("warm-up", ("warmup",)),
    ("server", ("server",)),
    ("server threads", ("server_threads",)),
    ("client threads", ("client_threads",)),
    ("HTTP versions", ("http",)),
    ("keep-alive", ("keep_alive",)),
    ("poll schedule", ("poll_schedule",)),
    ("poll shapes", ("poll_shapes",)),
    ("long-poll wait, ms", ("long_poll_wait_ms",)),
    ("stagger, ms", ("stagger_ms",)),
    ("shard", ("shard",)),
    ("interrupted", ("interrupted",)),
]
AXES = [("link", "links"), ("tls", "TLS"), ("proxy", "proxies"), ("client", "clients")]


def context_rows(context, cases):
    """(label, value) of the run's context: machine, load, commit, build, and the link / TLS /
    proxy / client axes from the cases' fields."""
    rows = []
    for label, keys in CONTEXT_FIELDS:
        v = next((context[k] for k in keys if context.get(k) not in (None, "")), None)
        if v is None:
            continue
        if isinstance(v, list):
            v = ", ".join(f"{x:.2f}" if isinstance(x, float) else str(x) for x in v)
        rows.append((label, str(v)))
    for field, label in AXES:
        seen = list(dict.fromkeys(str(c.get(field)) for c in cases))
        rows.append((label, ", ".join(seen) if seen else "-"))
    loads = sorted({results.load_text(c) for c in cases}, key=lambda t: (len(t), t))
    rows.append(("loads", ", ".join(loads)))
    rows.append(("recordings", ", ".join(results.recordings(cases))))
    rows.append(("cases", f"{len(cases)} ({sum(1 for c in cases if c['error'])} failed)"))
    return rows


def context_html(context, cases):
    out = ['<dl class="context">']
    for label, v in context_rows(context, cases):
        out.append(f"<dt>{html.escape(label)}</dt><dd>{html.escape(v)}</dd>")
    out.append("</dl>")
    notes = [(k, context[k]) for k in ("cpu_note", "timing_note", "wire_bytes_formula")
             if context.get(k)]
    if notes:
        out.append('<details><summary>How the figures are taken</summary><dl class="context">')
        for k, v in notes:
            out.append(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>")
        out.append("</dl></details>")
    return "".join(out)


def caption(name, context, cases):
    """One line of context for the charts: run, commit, build, machine, speed, axes."""
    ok = [c for c in cases if not c["error"]]
    axes = []
    for field, label in AXES:
        seen = list(dict.fromkeys(str(c.get(field)) for c in ok))
        axes.append(f"{field} {'/'.join(seen) or '-'}")
    return (f"Run {name}: commit {context.get('ssebench_commit', '?')}, "
            f"{context.get('ssebench_build_type', context.get('library_build_type', '?'))}, "
            f"{context.get('cpu_model', '?')} × {context.get('cores') or context.get('num_cpus')} "
            f"cores on {context.get('host_name', '?')}, replay speed {context.get('speed', '?')}, "
            f"{', '.join(axes)}. Each point is one case (a recording at one load); "
            "hover it for its name and figures, click a legend entry to hide or show a "
            "transport. Scales are logarithmic.")


def case_data(cases):
    """What the charts read per case (failed cases are left out: they have no figures)."""
    out = []
    for c in sorted((c for c in cases if not c["error"]), key=results.sort_key):
        k = c["counters"]
        server, client = (k.get("server_cpu_us_per_token"), k.get("client_cpu_us_per_token"))
        out.append({
            "name": c["name"], "transport": c["transport"], "label": results.label(c),
            "variant": results.variant(c), "recording": c["recording"],
            "load": results.load_text(c), "load_key": list(results.load_key(c)),
            "f": {
                "lag_ms_p50": _finite(k.get("lag_ms_p50")),
                "lag_ms_p99": _finite(k.get("lag_ms_p99")),
                "lag_ms_mean": _finite(k.get("lag_ms_mean")),
                "ttft_ms_p50": _finite(k.get("ttft_ms_p50")),
                "ttft_ms_p99": _finite(k.get("ttft_ms_p99")),
                "wire_bytes_per_token": _finite(results.wire_total(c)),
                "server_cpu_us_per_token": _finite(server),
                "client_cpu_us_per_token": _finite(client),
                "cpu_us_per_token": _finite(server + client)
                if server is not None and client is not None else None,
                "requests_per_stream": _finite(k.get("requests_per_stream")),
            }})
    return out


# What each chart shows: (id, title, x figure or None for the settings axis, y figure, x unit,
# y unit). A strip chart puts each setting on the x axis, a scatter a figure on each.
RUN_CHARTS = [
    ("lag_p50", "Delivery lag, p50 — how late a token arrives after the recording sent it",
     None, "lag_ms_p50", "", "delivery lag p50 (ms)"),
    ("lag_p99", "Delivery lag, p99", None, "lag_ms_p99", "", "delivery lag p99 (ms)"),
    ("bytes", "Wire bytes per token (in + out, TCP/IP headers included)", None,
     "wire_bytes_per_token", "", "wire bytes per token (B)"),
    ("cpu", "CPU per token, server + client", None, "cpu_us_per_token", "",
     "CPU per token (µs)"),
    ("tradeoff", "The trade-off: delivery lag against wire bytes per token (lower left is "
     "better)", "wire_bytes_per_token", "lag_ms_mean", "wire bytes per token (B)",
     "delivery lag, mean (ms)"),
    ("ttft", "Time to first token, p50", None, "ttft_ms_p50", "", "TTFT p50 (ms)"),
]

STYLE = """
:root { --fg: #1b1f24; --muted: #59636e; --line: #d0d7de; --bg: #fff; --alt: #f6f8fa;
  --bad: #b3261e; --good: #1a7f37; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  background: var(--bg); margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 1200px; }
h1 { font-size: 1.5rem; margin: .5rem 0 0; } h2 { font-size: 1.2rem; margin: 2rem 0 .5rem;
  border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .2rem; }
p.sub { color: var(--muted); margin: .2rem 0 1rem; }
nav a { margin-right: 1rem; }
code { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; background: var(--alt);
  padding: 0 .2em; border-radius: 3px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: .5rem 0; }
th, td { border: 1px solid var(--line); padding: .2rem .45rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
thead th { background: var(--alt); position: sticky; top: 0; }
table.data td:first-child { white-space: nowrap; }
table.data th { cursor: pointer; user-select: none; white-space: nowrap; }
table.data th[aria-sort=ascending]::after { content: " ▲"; }
table.data th[aria-sort=descending]::after { content: " ▼"; }
table.data tbody tr:nth-child(even) { background: #fbfcfd; }
tr.failed td, tr.worse td:last-child { color: var(--bad); }
tr.better td:last-child { color: var(--good); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1rem; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
figure h3 { margin: 0 0 .3rem; font-size: .95rem; }
.canvas { position: relative; height: 340px; }
figcaption, .caption { color: var(--muted); font-size: 13px; }
.controls label { margin-right: 1rem; }
dl.context { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
dl.context dt { color: var(--muted); } dl.context dd { margin: 0; word-break: break-word; }
ul.failed li { color: var(--bad); }
.filter input { font: inherit; padding: .15rem .4rem; width: 18rem; }
.count { color: var(--muted); font-size: 13px; }
"""

# The page's own script: tables (sort, filter) and the charts. Reads the JSON block #data.
SCRIPT = r"""
(function () {
  'use strict';
  function num(text) {
    var m = /-?[0-9][0-9,]*\.?[0-9]*(?:e[-+]?[0-9]+)?/i.exec(text || '');
    return m ? parseFloat(m[0].replace(/,/g, '')) : NaN;
  }
  document.querySelectorAll('table.data').forEach(function (t) {
    var heads = t.querySelectorAll('thead th');
    heads.forEach(function (th, i) {
      th.addEventListener('click', function () {
        var down = th.getAttribute('aria-sort') === 'ascending';
        heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', down ? 'descending' : 'ascending');
        var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var numeric = th.dataset.kind === 'num';
        rows.sort(function (a, b) {
          var x = a.cells[i] ? a.cells[i].textContent : '';
          var y = b.cells[i] ? b.cells[i].textContent : '';
          var r;
          if (numeric) {
            var p = num(x), q = num(y);
            if (isNaN(p) && isNaN(q)) r = 0; else if (isNaN(p)) r = 1; else if (isNaN(q)) r = -1;
            else r = p - q;
            if (isNaN(p) || isNaN(q)) return r;  // no number: last either way
          } else r = x.localeCompare(y);
          return down ? -r : r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  document.querySelectorAll('input[data-filter]').forEach(function (box) {
    var t = document.getElementById(box.dataset.filter);
    var count = document.querySelector('[data-count="' + box.dataset.filter + '"]');
    function apply() {
      var words = box.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
      Array.prototype.forEach.call(t.tBodies[0].rows, function (r) {
        var text = r.textContent.toLowerCase();
        var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
        r.style.display = ok ? '' : 'none';
        if (ok) shown++;
      });
      if (count) count.textContent = shown + ' of ' + t.tBodies[0].rows.length + ' rows';
    }
    box.addEventListener('input', apply);
    apply();
  });

  var block = document.getElementById('data');
  if (!block || typeof Chart === 'undefined') return;
  var data = JSON.parse(block.textContent);
  Chart.defaults.font.size = 12;
  Chart.defaults.animation = false;
  var COLORS = {'sse': '#111111', 'ws': '#17a2b8', 'rest': '#8c8c8c', 'long-poll': '#8e44ad',
                'poll': '#1f6fd1'};
  var EXTRA = ['#e67e22', '#27ae60', '#c0392b', '#d4a017', '#7f8c8d', '#2c3e50', '#ff69b4'];
  var STYLES = ['circle', 'triangle', 'rect', 'rectRot', 'star', 'crossRot', 'cross'];
  function fmt(v, unit) {
    if (v === null || v === undefined) return '-';
    var a = Math.abs(v), s = a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
    return s + (unit ? ' ' + unit : '');
  }
  // Log axes: a label at 1, 2 and 5 of each decade, as plain numbers (10,000 not 10,000.0).
  // Over more than three decades, only the powers of ten: the labels would touch.
  function logTick(v, i, ticks) {
    var m = v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9));
    var span = Math.log10(ticks[ticks.length - 1].value / ticks[0].value);
    var keep = span > 3 ? [1] : [1, 2, 5];
    if (keep.indexOf(Math.round(m * 1000) / 1000) < 0) return '';
    return v >= 1 ? v.toLocaleString('en-US', {maximumFractionDigits: 0})
                  : String(Number(v.toPrecision(1)));
  }
  window.ssebenchCharts = [];

  if (data.kind === 'run') runCharts(data); else compareCharts(data);

  function runCharts(data) {
    var recSel = document.getElementById('pick-recording');
    var loadSel = document.getElementById('pick-load');
    var labels = [], variants = [];
    data.cases.forEach(function (c) {
      if (labels.indexOf(c.label) < 0) labels.push(c.label);
      if (variants.indexOf(c.variant) < 0) variants.push(c.variant);
    });
    var extra = 0, style = {};
    labels.forEach(function (l) {
      var base = l.split(' ')[0];
      var same = labels.filter(function (m) { return m.split(' ')[0] === base; });
      style[l] = {color: COLORS[base] || EXTRA[extra++ % EXTRA.length],
                  point: STYLES[same.indexOf(l) % STYLES.length]};
    });
    function picked(c) {
      return (!recSel || !recSel.value || c.recording === recSel.value) &&
             (!loadSel || !loadSel.value || c.load === loadSel.value);
    }
    function datasets(spec) {
      return labels.map(function (l) {
        var pts = [];
        data.cases.forEach(function (c) {
          if (c.label !== l || !picked(c)) return;
          var y = c.f[spec.y], x = spec.x ? c.f[spec.x] : c.variant;
          if (y === null || y === undefined || !(y > 0)) return;
          if (spec.x && !(x > 0)) return;
          pts.push({x: x, y: y, c: c});
        });
        return {label: l, data: pts, backgroundColor: style[l].color, borderColor: style[l].color,
                pointStyle: style[l].point, pointRadius: 5, pointHoverRadius: 8, showLine: false,
                clip: false};  // a point on the plot's edge drawn whole
      });
    }
    data.charts.forEach(function (spec) {
      var el = document.getElementById('chart-' + spec.id);
      if (!el) return;
      var x = spec.x ? {type: 'logarithmic', title: {display: true, text: spec.x_unit},
                        ticks: {callback: logTick, autoSkip: false, maxRotation: 0}}
                     : {type: 'category', labels: variants, offset: true,
                        title: {display: true, text: 'transport / poll interval (ms) / poll shape'},
                        ticks: {autoSkip: false, maxRotation: 60, minRotation: 30}};
      var chart = new Chart(el, {
        type: 'scatter',
        data: {datasets: datasets(spec)},
        options: {
          responsive: true, maintainAspectRatio: false,
          interaction: {mode: 'nearest', intersect: true},
          scales: {x: x, y: {type: 'logarithmic', title: {display: true, text: spec.y_unit},
                       ticks: {callback: logTick, autoSkip: false}}},
          plugins: {
            legend: {position: 'bottom', labels: {usePointStyle: true, boxWidth: 8}},
            tooltip: {callbacks: {
              title: function (items) { return items.length ? items[0].raw.c.name : ''; },
              label: function (item) {
                var f = item.raw.c.f;
                return ['lag p50 ' + fmt(f.lag_ms_p50, 'ms') + ', p99 ' + fmt(f.lag_ms_p99, 'ms') +
                          ', mean ' + fmt(f.lag_ms_mean, 'ms'),
                        'wire ' + fmt(f.wire_bytes_per_token, 'B') + ' per token',
                        'CPU per token: server ' + fmt(f.server_cpu_us_per_token, 'µs') +
                          ', client ' + fmt(f.client_cpu_us_per_token, 'µs'),
                        'TTFT p50 ' + fmt(f.ttft_ms_p50, 'ms') + ', ' +
                          fmt(f.requests_per_stream, '') + ' requests per stream',
                        item.raw.c.recording + ', ' + item.raw.c.load];
              }}}
          }
        }
      });
      chart.ssebenchSpec = spec;
      window.ssebenchCharts.push(chart);
    });
    function refresh() {
      window.ssebenchCharts.forEach(function (ch) {
        var fresh = datasets(ch.ssebenchSpec);
        ch.data.datasets.forEach(function (d, i) { d.data = fresh[i].data; });
        ch.update();
      });
    }
    if (recSel) recSel.addEventListener('change', refresh);
    if (loadSel) loadSel.addEventListener('change', refresh);
  }

  function compareCharts(data) {
    var el = document.getElementById('chart-changes');
    if (!el || !data.changes.length) return;
    var chart = new Chart(el, {
      type: 'bar',
      data: {
        labels: data.changes.map(function (r) { return r.figure + ' · ' + r.case; }),
        datasets: [{label: 'change, % (right = worse: every figure here is lower-is-better)',
                    data: data.changes.map(function (r) { return r.change_pct; }),
                    backgroundColor: data.changes.map(function (r) {
                      return r.change_pct > 0 ? '#b3261e' : '#1a7f37'; })}]
      },
      options: {
        indexAxis: 'y', responsive: true, maintainAspectRatio: false,
        scales: {x: {title: {display: true, text: 'change from BASE to NEW (%)'}},
                 y: {ticks: {autoSkip: false, font: {size: 11}}}},
        plugins: {legend: {display: false}, tooltip: {callbacks: {
          label: function (item) {
            var r = data.changes[item.dataIndex];
            return [fmt(r.base, r.unit) + ' → ' + fmt(r.new, r.unit) + ' (' +
                    (r.change_pct > 0 ? '+' : '') + r.change_pct.toFixed(1) + ' %)',
                    'p = ' + (r.p === null ? '- (too few repetitions)' : r.p.toFixed(3)) +
                    ', repetitions ' + r.n[0] + '/' + r.n[1]];
          }}}}
      }
    });
    window.ssebenchCharts.push(chart);
  }
})();
"""


def page(title, subtitle, body):
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p class=\"sub\">{html.escape(subtitle)}</p>"
            f"{body}</body></html>\n")


def scripts(data):
    return (json_block("data", data) + f"<script>{chart_js()}</script>"
            + f"<script>{SCRIPT}</script>")


def findings(run_path):
    """report.py's section as HTML; a run it cannot read (no closed-loop sse case, say) gets a
    line saying so, the rest of the page still written."""
    try:
        return markdown(report.section(run_path, reference=False))
    except (ValueError, KeyError, IndexError, StopIteration, TypeError, ZeroDivisionError) as e:
        return (f"<p>report.py writes no findings for this run ({html.escape(type(e).__name__)}: "
                f"{html.escape(str(e))}): they need closed-loop sse and poll cases. The charts "
                "and the table below have every case.</p>")


def run_page(run_path):
    """The HTML of report.html for a run folder (or its benchmark.json)."""
    context, cases = results.load(run_path)
    name = os.path.basename(os.path.dirname(os.path.abspath(results.json_path(run_path))))
    chart_js()  # a missing library is a PageError before anything is built
    failed = [c for c in cases if c["error"]]
    data = case_data(cases)
    charts = [{"id": i, "title": t, "x": x, "y": y, "x_unit": xu, "y_unit": yu}
              for i, t, x, y, xu, yu in RUN_CHARTS
              if any(c["f"].get(y) and (x is None or c["f"].get(x)) for c in data)]
    body = ['<nav><a href="#answers">Answers</a><a href="#charts">Charts</a>'
            '<a href="#table">Table</a><a href="#context">Context</a></nav>']
    if context.get("interrupted"):
        body.append(f"<p><strong>Interrupted:</strong> {html.escape(str(context['interrupted']))}"
                    "</p>")
    body.append('<section id="answers"><h2>Answers</h2>')
    body.append(findings(run_path))
    body.append("</section>")
    body.append('<section id="charts"><h2>Charts</h2>')
    body.append("<noscript><p>The charts need JavaScript; the answers above and the table below "
                "do not.</p></noscript>")
    body.append(f'<p class="caption">{html.escape(caption(name, context, cases))}</p>')
    recs = results.recordings([c for c in cases if not c["error"]])
    loads = sorted({(tuple(c["load_key"]), c["load"]) for c in data})
    body.append('<p class="controls">')
    if len(recs) > 1:
        body.append('<label>Recording <select id="pick-recording"><option value="">all</option>'
                    + "".join(f'<option value="{html.escape(r)}">{html.escape(r)}</option>'
                              for r in recs) + "</select></label>")
    if len(loads) > 1:
        body.append('<label>Load <select id="pick-load"><option value="">all</option>'
                    + "".join(f'<option value="{html.escape(t)}">{html.escape(t)}</option>'
                              for _, t in loads) + "</select></label>")
    body.append("</p>")
    if charts:
        body.append('<div class="charts">')
        for ch in charts:
            body.append(f'<figure><h3>{html.escape(ch["title"])}</h3><div class="canvas">'
                        f'<canvas id="chart-{ch["id"]}" role="img" '
                        f'aria-label="{html.escape(ch["title"])}"></canvas></div></figure>')
        body.append("</div>")
    else:
        body.append("<p>No case of this run has figures to chart.</p>")
    body.append("</section>")
    body.append('<section id="table"><h2>Every case</h2>')
    body.append('<p class="caption">Click a header to sort; ×sse = relative to the sse case of '
                "the same recording, load, HTTP version, link, TLS, proxy and client.</p>")
    body.append(filter_box("cases", "cases"))
    rows = list(table.rows(cases))
    body.append(html_table(table.header(), rows, "cases",
                           classes=["failed" if c["error"] else "" for c in cases]))
    head, shape_rows = table.shape_rows(cases)
    if shape_rows:
        body.append("<h3>Wire bytes per token (in + out) by poll shape, beside sse's</h3>")
        body.append(html_table(head, shape_rows, "shapes", numeric_from=3))
    body.append("</section>")
    body.append('<section id="context"><h2>Context</h2>')
    if failed:
        body.append(f"<h3>Failed cases ({len(failed)})</h3><ul class=\"failed\">")
        body += [f"<li><code>{html.escape(c['name'])}</code>: {html.escape(c['error'])}</li>"
                 for c in failed]
        body.append("</ul>")
    body.append(context_html(context, cases))
    body.append("</section>")
    body.append(scripts({"kind": "run", "cases": data, "charts": charts}))
    subtitle = (f"ssebench report of {name} — {len(cases)} cases, "
                f"{len(failed)} failed; written by scripts/report.py --html")
    return page(f"ssebench: {name}", subtitle, "".join(body))


def write_run(run_path):
    """Writes RUN/report.html; returns its path."""
    text = run_page(run_path)
    folder = os.path.dirname(results.json_path(run_path))
    return _write(os.path.join(folder, "report.html"), text)


def _write(path, text):
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)  # nothing half-written left behind
        raise PageError(f"cannot write {path}: {e.strerror or e}") from None
    return path


# The compare page -------------------------------------------------------------------------------

def _floor(name):
    return next((f.floor for f in figures.FIGURES if f.name == name), None) or 0.0


def _past(r, pct):
    """A change that counts: past pct %, past the figure's floor, not shown insignificant."""
    return (abs(r["change_pct"]) > pct and abs(r["new"] - r["base"]) > _floor(r["figure"])
            and r["significant"] is not False)


def _run_name(path):
    """The run folder's name, or a JSON file's own name when it is not a run's benchmark.json."""
    path = os.path.abspath(results.json_path(path))
    if os.path.basename(path) == "benchmark.json":
        return os.path.basename(os.path.dirname(path))
    return os.path.basename(path)


def _n(count, noun):
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _pct(v):
    return "∞" if math.isinf(v) else f"{v:+.1f} %"


def compare_summary(rows, only_base, only_new, failed_new, pct, alpha, fail_pct):
    """The sentences at the top of compare.html, as markdown."""
    cases = len({r["case"] for r in rows})
    worse = [r for r in rows if _past(r, pct) and r["change_pct"] > 0]
    better = [r for r in rows if _past(r, pct) and r["change_pct"] < 0]
    regressions = [r for r in rows if r["regression"]]
    reps = [min(r["n"]) for r in rows]
    out = [f"{_n(cases, 'case')} in both runs, {_n(len(rows), 'figure')} compared"
           + (f"; {_n(len(only_base), 'case')} only in BASE, {len(only_new)} only in NEW"
              if only_base or only_new else "") + "."]
    threshold = f"{pct:g} %" + ("" if fail_pct is not None else
                                " (no `--fail-on-regression` given: the page's default)")
    out.append(f"**{_n(len(worse), 'figure')} worse** and **{len(better)} better** by more than "
               f"{threshold} and more than their floor (ssebench/figures.py: 1 ms, 2 µs, 2 B, …)"
               + (f"; the gate counts **{_n(len(regressions), 'regression')}**"
                  if fail_pct is not None else "") + ".")
    if reps and max(reps) < comparing.MIN_REPETITIONS:
        out.append(f"How sure: the runs have {_n(max(reps), 'repetition')} a side, fewer than the "
                   f"{comparing.MIN_REPETITIONS} the Mann-Whitney U test needs to reach p < "
                   f"{alpha:g}, so a change here is the change alone, not a significant one "
                   "(`scripts/bench --repetitions=N`).")
    else:
        sig = sum(1 for r in rows if r["significant"])
        out.append(f"How sure: {sig} of the {len(rows)} figures changed significantly "
                   f"(two-sided Mann-Whitney U test over the repetitions, alpha {alpha:g}).")
    for title, rs in (("Largest worsenings", worse), ("Largest improvements", better)):
        top = sorted(rs, key=lambda r: -abs(r["change_pct"]))[:5]
        if top:
            out.append(f"{title}: " + "; ".join(
                f"`{r['figure']}` of `{r['case']}` {comparing.fmt_value(r['base'])} → "
                f"{comparing.fmt_value(r['new'])} {r['unit']} ({_pct(r['change_pct'])})"
                for r in top) + ".")
    if failed_new:
        out.append(f"**{_n(len(failed_new), 'case')} failed in NEW** (listed below).")
    return "\n\n".join(out)


def compare_page(base_path, new_path, rows, only_base, only_new, failed_new, notes, fail_pct,
                 alpha):
    chart_js()
    base_ctx, base_cases = results.load(base_path)
    new_ctx, new_cases = results.load(new_path)
    base_name, new_name = _run_name(base_path), _run_name(new_path)
    pct = fail_pct if fail_pct is not None else COMPARE_THRESHOLD_PCT
    body = ['<nav><a href="#answers">Summary</a><a href="#charts">Chart</a>'
            '<a href="#table">Table</a><a href="#context">Context</a></nav>']
    body.append('<section id="answers"><h2>What changed</h2>')
    body.append(markdown(compare_summary(rows, only_base, only_new, failed_new, pct, alpha,
                                         fail_pct)))
    if notes:
        body.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    body.append("</section>")
    changes = sorted((r for r in rows if _past(r, pct) and math.isfinite(r["change_pct"])),
                     key=lambda r: -abs(r["change_pct"]))[:COMPARE_CHART_ROWS]
    body.append('<section id="charts"><h2>The largest changes</h2>')
    body.append("<noscript><p>The chart needs JavaScript; the summary and the table do not."
                "</p></noscript>")
    if changes:
        body.append(f'<p class="caption">BASE {html.escape(base_name)} → NEW '
                    f'{html.escape(new_name)}: the {len(changes)} largest changes past {pct:g} % '
                    "and their floor, in % of BASE; red = worse (every figure compared is "
                    "lower-is-better). Hover a bar for both values and the p-value.</p>")
        height = 60 + 22 * len(changes)
        body.append(f'<figure><div class="canvas" style="height:{height}px">'
                    '<canvas id="chart-changes" role="img" aria-label="largest changes">'
                    "</canvas></div></figure>")
    else:
        body.append(f"<p>No figure changed by more than {pct:g} % and its floor.</p>")
    body.append("</section>")
    body.append('<section id="table"><h2>Every figure</h2>')
    body.append(filter_box("compare", "rows"))
    head = ["case", "figure", "base", "new", "change", "p", "repetitions", "verdict"]
    table_rows, classes = [], []
    for r in rows:
        verdict = ""
        if r["regression"]:
            verdict = "REGRESSION"
        elif r["significant"]:
            verdict = "worse" if r["change_pct"] > 0 else "better"
        elif _past(r, pct):
            verdict = ("worse" if r["change_pct"] > 0 else "better") + f" (past {pct:g} %)"
        if verdict and not r["gated"]:
            verdict += " (not gated)"
        unit = f" {r['unit']}" if r["unit"] else ""
        table_rows.append([r["case"], r["figure"], comparing.fmt_value(r["base"]) + unit,
                           comparing.fmt_value(r["new"]) + unit, _pct(r["change_pct"]),
                           "-" if r["p"] is None else f"{r['p']:.3f}",
                           f"{r['n'][0]}/{r['n'][1]}", verdict])
        classes.append("worse" if verdict.startswith(("REGRESSION", "worse")) else
                       "better" if verdict.startswith("better") else "")
    body.append(html_table(head, table_rows, "compare", numeric_from=2, classes=classes))
    side = [("only in BASE", [(n, "") for n in only_base]),
            ("only in NEW", [(n, "") for n in only_new]), ("failed in NEW", failed_new)]
    for title, items in side:
        if items:
            body.append(f"<h3>Cases {title} ({len(items)})</h3><ul"
                        + (' class="failed"' if title.startswith("failed") else "") + ">")
            body += [f"<li><code>{html.escape(n)}</code>"
                     + (f": {html.escape(e)}" if e else "") + "</li>" for n, e in items]
            body.append("</ul>")
    body.append("</section>")
    body.append('<section id="context"><h2>Context</h2>')
    for label, name, ctx, cases in (("BASE", base_name, base_ctx, base_cases),
                                    ("NEW", new_name, new_ctx, new_cases)):
        body.append(f"<h3>{label}: {html.escape(name)}</h3>")
        body.append(context_html(ctx, cases))
    body.append("</section>")
    data = {"kind": "compare", "changes": [
        {k: r[k] for k in ("case", "figure", "unit", "base", "new", "change_pct", "p", "n")}
        for r in changes]}
    body.append(scripts(data))
    subtitle = (f"BASE {base_name} → NEW {new_name}; written by scripts/compare --html")
    return page(f"ssebench compare: {base_name} → {new_name}", subtitle, "".join(body))


def write_compare(path, *args):
    return _write(path, compare_page(*args))
