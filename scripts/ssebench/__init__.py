"""ssebench's scripts as one package: the readers and the derived figures here, each command in
scripts/ a thin argparse front (as Google Benchmark's tools/gbench under its compare.py).

  figures.py     the table of figures: every counter the harness writes, with its unit,
                 direction, machine- or protocol-bound, compare floor, merge rule, format, label
  results.py     a run's benchmark.json -> case records (their fields, never their names); wire
                 total, SSE reference, transport order, labels, load keys
  plot.py        matplotlib set-up, atomic PNG + SVG save, a case's colour, the machine line
  recordings.py  the one reader of recordings/*.jsonl
  server.py      child processes: the mock server on port 0 and its "listening on" line
  cli.py         argparse from a command's docstring; an unreadable run is one line, exit 2
  table.py, compare.py, merge.py, model.py, charts.py, tradeoff.py, crossover.py, report.py,
  variants.py, histograms.py, scale.py, scale_table.py, crosscheck.py, roundtrip.py
                 the logic of scripts/bench_table.py, compare, merge_shards, model.py, charts.py,
                 crossover.py, report.py, variants_table.py, scale.py, scale_table.py,
                 crosscheck/crosscheck.py and recorder/roundtrip.py
  linkcharts.py, linkfindings.py
                 a run over several links: its link_*.png (drawn by charts.py) and
                 report.py --links's sentences
  shards.py      scripts/shards: N harness shards in network namespaces of their own against one
                 server, one common start, merged (the rehearsal of a sharded run)
  migrate.py     one-off: the case fields of runs made before them, from their names (the one
                 place that reads a name)

How it is imported, with no sys.path edit anywhere:
- a command in scripts/ imports `ssebench.x`: Python puts the script's own folder on the path;
- tests get PYTHONPATH=<repo>/scripts from ctest (tests/scripts/CMakeLists.txt,
  tests/bench/CMakeLists.txt); by hand: `PYTHONPATH=scripts python3 -m ssebench.migrate RUN`;
- the commands in subfolders (crosscheck/crosscheck.py, recorder/roundtrip.py) keep their paths
  and command lines but hold no logic: each loads this package from its file, one folder up,
  with importlib (spec_from_file_location, the standard library's recipe for importing a source
  file directly) and calls its main(). scripts/recordings/ (convert.py, timing.py) is left on
  its own: it writes the recordings, whose "generator" field names timing.py by its path, and
  takes only cli.py from here (convert.py's command line, loaded the same way).
"""
