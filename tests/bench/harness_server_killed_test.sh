#!/usr/bin/env bash
# The server killed (SIGKILL) in the middle of a harness run against it (--server=URL): the
# harness never hangs, reports the failed streams, writes its JSON with the case that was cut
# and the ones after it marked failed (the first, finished case intact), and exits non-zero.
# Usage: harness_server_killed_test.sh SERVER_BINARY HARNESS_BINARY RECORDINGS_DIR
set -u
server=$1 harness=$2 recordings=$3
tmp=$(mktemp -d)
spid= hpid=
cleanup() {
  [ -n "$spid" ] && kill -KILL "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
  [ -n "$hpid" ] && kill -KILL "$hpid" 2>/dev/null && wait "$hpid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  cat "$tmp/harness.err" >&2 2>/dev/null
  exit 1
}

"$server" --recordings "$recordings" --port 0 >"$tmp/server.out" 2>"$tmp/server.err" &
spid=$!
for _ in $(seq 600); do [ -s "$tmp/server.out" ] && break; sleep 0.05; done
url=$(head -n 1 "$tmp/server.out" | sed -n 's/^listening on //p')
[ -n "$url" ] || fail "the server printed no 'listening on' line"

# rest, then sse and long-poll (delta) of a 2.8 s recording, 3 streams each.
"$harness" --server="$url" --cases=rest,sse,long-poll --http=1.1 --poll-shapes=delta \
  --models=chat-gpt-4o-json --concurrency=3 --no-warmup \
  --benchmark_out="$tmp/out.json" --benchmark_out_format=json >"$tmp/harness.out" 2>"$tmp/harness.err" &
hpid=$!
for _ in $(seq 300); do
  if /usr/bin/python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["benchmarks"] else 1)' \
    "$tmp/out.json" 2>/dev/null; then break; fi
  kill -0 "$hpid" 2>/dev/null || fail "the harness exited before its first case was in the JSON"
  sleep 0.05
done
sleep 1 # into the sse case, its streams under way
kill -KILL "$spid"
wait "$spid" 2>/dev/null
spid=
for _ in $(seq 400); do kill -0 "$hpid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$hpid" 2>/dev/null && fail "the harness still runs 20 s after the server died"
wait "$hpid"
rc=$?
hpid=
[ "$rc" -ne 0 ] || fail "the harness exited 0 although the server died mid-run"
grep -q 'FAILED' "$tmp/harness.err" || fail "no FAILED line on stderr"

/usr/bin/python3 - "$tmp/out.json" <<'PY' || exit 1
import json, sys
cases = json.load(open(sys.argv[1]))["benchmarks"]
names = [c["name"] for c in cases]
assert len(cases) == 3, names
assert not cases[0].get("error_occurred"), cases[0]
for c in cases[1:]:
    assert c.get("error_occurred") is True, c["name"]
    assert c["error_message"].startswith("3/3 streams failed"), c["error_message"]
# A failed case's JSON has its message, not its counters: "3/3 streams failed (KIND N, …); …".
def kinds(case):
    inside = case["error_message"].split("(", 1)[1].split(")", 1)[0]
    return {k: int(n) for k, n in (part.rsplit(" ", 1) for part in inside.split(", "))}
# The case the kill cut: every stream's answer had begun and was cut short.
assert kinds(cases[1]) == {"truncated": 3}, cases[1]["error_message"]
# After it, nothing answers: every stream is a connection error.
assert kinds(cases[2]) == {"curl": 3}, cases[2]["error_message"]
for c in cases:
    print(c["name"], "->", c.get("error_message", "ok")[:100])
PY
