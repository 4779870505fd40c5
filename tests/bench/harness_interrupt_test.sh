#!/usr/bin/env bash
# Ctrl-C in the middle of a run loses nothing: SIGINT after the first case has finished leaves a
# valid JSON with that case, the case that was running marked failed as interrupted, none of the
# cases that did not run, and "interrupted" in its context; the harness exits 130 within a few
# seconds and the table script still reads the JSON.
# Usage: harness_interrupt_test.sh HARNESS_BINARY TABLE_SCRIPT
set -u
harness=$1 table=$2
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  cat "$tmp/harness.err" >&2 2>/dev/null
  exit 1
}

# Three cases of a 2.8 s recording (sse, rest, long-poll); each takes its whole length.
"$harness" --cases=sse,rest,long-poll --http=1.1 --poll-shapes=delta --models=chat-gpt-4o-json \
  --concurrency=2 --no-warmup \
  --benchmark_out="$tmp/out.json" --benchmark_out_format=json >"$tmp/harness.out" 2>"$tmp/harness.err" &
pid=$!
# The JSON is rewritten after every case: wait for the first one in it.
for _ in $(seq 300); do
  if /usr/bin/python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["benchmarks"] else 1)' \
    "$tmp/out.json" 2>/dev/null; then break; fi
  kill -0 "$pid" 2>/dev/null || fail "the harness exited before its first case was in the JSON"
  sleep 0.05
done
sleep 0.5 # into the second case
kill -INT "$pid"
start=$(date +%s)
for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && fail "the harness still runs 10 s after SIGINT"
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 130 ] || fail "exit status $rc after SIGINT, want 130"
echo "stopped in $(($(date +%s) - start)) s"
ls "$tmp" | grep -q 'tmp-' && fail "a temporary result file was left: $(ls "$tmp")"

/usr/bin/python3 - "$tmp/out.json" <<'PY' || exit 1
import json, sys
data = json.load(open(sys.argv[1]))
note = data["context"].get("interrupted", "")
assert note.startswith("SIGINT during case 2 of 3"), note
cases = data["benchmarks"]
names = [c["name"] for c in cases]
assert len(cases) == 2, names
assert not cases[0].get("error_occurred"), cases[0]
assert cases[0]["name"].startswith("sse/"), names
assert cases[1].get("error_occurred") is True, cases[1]
assert cases[1]["error_message"].startswith("interrupted (SIGINT) during this case"), cases[1]
print("ok:", note)
PY
"$table" "$tmp/out.json" >"$tmp/table.txt"
[ $? -eq 1 ] || fail "the table script should read the JSON and exit 1 (interrupted)"
grep -q '^INTERRUPTED: SIGINT' "$tmp/table.txt" || fail "the table does not say it was interrupted"
grep -q '^sse/chat-gpt-4o-json/c:2' "$tmp/table.txt" || fail "the table lacks the finished case"
echo "ok: the table reads it"
