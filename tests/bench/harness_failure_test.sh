#!/usr/bin/env bash
# A case whose streams do not match the recording is reported, not dropped: the harness marks
# it failed in its JSON (SkipWithError, with the error counts by kind) and exits non-zero.
# The server replays the real chat-gpt-4o-mini-text; the harness is given another recording
# under that id, so every stream's text differs from what it expects.
# Usage: harness_failure_test.sh SERVER_BINARY HARNESS_BINARY RECORDINGS_DIR
set -u
server=$1 harness=$2 recordings=$3
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir "$tmp/rec"
cp "$recordings/chat-gpt-4o-mini-tool.jsonl" "$tmp/rec/chat-gpt-4o-mini-text.jsonl"
"$server" --recordings "$recordings" --port 0 >"$tmp/server.out" 2>"$tmp/server.err" &
pid=$!
for _ in $(seq 600); do [ -s "$tmp/server.out" ] && break; sleep 0.05; done
url=$(head -n 1 "$tmp/server.out" | sed -n 's/^listening on //p')
[ -n "$url" ] || fail "the server printed no 'listening on' line"

"$harness" --server="$url" --recordings="$tmp/rec" --cases=sse --http=1.1 --models=chat-gpt-4o-mini-text \
  --concurrency=2 --speed=0 --no-warmup \
  --benchmark_out="$tmp/out.json" --benchmark_out_format=json >"$tmp/harness.out" 2>&1
rc=$?
[ "$rc" -ne 0 ] || fail "the harness exited 0 although every stream's text differed"
/usr/bin/python3 - "$tmp/out.json" <<'PY' || exit 1
import json, sys
cases = json.load(open(sys.argv[1]))["benchmarks"]
assert len(cases) == 1, cases
case = cases[0]
assert case.get("error_occurred") is True, case
message = case.get("error_message", "")
assert message.startswith("2/2 streams failed (text_mismatch 2)"), message
print("ok:", message)
PY
