#!/usr/bin/env bash
# The link emulator killed (SIGKILL) in the middle of a --link run: the case it cut counts its
# failed streams, the cases after it fail at once ("not run"), the harness exits non-zero with
# one line naming the case, and none of the emulator's namespaces is left (a SIGKILLed emulator
# cannot remove them: the harness does). Root only (exit 77 skips).
# Usage: harness_link_killed_test.sh HARNESS_BINARY
set -u
harness=$1
if [ "$(id -u)" -ne 0 ]; then
  echo "harness_link_killed_test: not root, skipped (the link emulator needs root)"
  exit 77
fi
tmp=$(mktemp -d)
hpid=
cleanup() {
  [ -n "$hpid" ] && kill -KILL "$hpid" 2>/dev/null && wait "$hpid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  cat "$tmp/harness.err" >&2 2>/dev/null
  exit 1
}

# rest, then sse and long-poll (delta) of a 2.8 s recording, 3 streams each, on lan.
"$harness" --link=lan --cases=rest,sse,long-poll --http=1.1 --poll-shapes=delta \
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
lpid=$(pgrep -P "$hpid" -f ssebench-link)
[ -n "$lpid" ] || fail "no ssebench-link child of the harness"
kill -KILL "$lpid"
for _ in $(seq 400); do kill -0 "$hpid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$hpid" 2>/dev/null && fail "the harness still runs 20 s after the emulator died"
wait "$hpid"
rc=$?
hpid=
[ "$rc" -ne 0 ] || fail "the harness exited 0 although the emulator died mid-run"
grep -q "^ssebench-bench: the link emulator killed by SIGKILL during case 2 of 3 " "$tmp/harness.err" ||
  fail "no line naming the case the emulator died in"
left=$(ip netns list | grep -o "ssebench-bench-$lpid-[a-z]*")
[ -z "$left" ] || fail "namespaces left: $left"

/usr/bin/python3 - "$tmp/out.json" <<'PY' || exit 1
import json, sys
cases = json.load(open(sys.argv[1]))["benchmarks"]
names = [c["name"] for c in cases]
assert len(cases) == 3, names
assert not cases[0].get("error_occurred"), cases[0]
assert all(c["link"] == "lan" and "/link:lan" in c["name"] for c in cases), names
# The case the kill cut: its 3 streams failed and are counted.
cut = cases[1]["error_message"]
assert cut.startswith("the link emulator killed by SIGKILL during this case: 3/3 streams failed"), cut
# After it, nothing ran.
assert cases[2]["error_message"].startswith("not run: the link emulator killed by SIGKILL"), cases[2]
for c in cases:
    print(c["name"], "->", c.get("error_message", "ok")[:110])
PY
