"""The recordings (recordings/README.md's format) as the scripts read them: one reader for the
model, the charts, the report and the recording tools."""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOLDER = os.path.join(ROOT, "recordings")
# The kinds of a content event the model counts (METRICS.md).
CONTENT_KINDS = {"content", "response.output_text.delta", "response.refusal.delta",
                 "response.function_call_arguments.delta"}


def read_lines(path):
    """(head, events): a recording file's first line and the rest, each parsed."""
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    if not lines:
        raise ValueError(f"{path}: empty recording")
    return lines[0], lines[1:]


class Recording:
    """What the model needs of a recording (recordings/README.md's format)."""

    def __init__(self, path):
        head, lines = read_lines(path)
        self.id = os.path.splitext(os.path.basename(path))[0]
        self.api = head.get("api", "chat.completions")
        self.model = head.get("model", "")
        self.events = [e for e in lines if "bytes" in e]
        self.response_headers = head.get("response", {}).get("headers", [])
        self.headers_offset_us = head.get("response", {}).get("headers_offset_us", 0)
        self.nonstream = head.get("nonstream")
        self.content = [e for e in self.events if e.get("kind") in CONTENT_KINDS]
        usage = head.get("usage") or {}
        self.tokens = usage.get("completion_tokens") or len(self.content)
        # Job events: every event but [DONE], numbered from 0.
        self.job_events = [e for e in self.events if e.get("kind") != "done"]
        self.end_us = self.job_events[-1]["t_us"] if self.job_events else 0
        self.text_escaped = [self._escaped_delta(e) for e in self.job_events]

    @staticmethod
    def data(event):
        """The event's payload: its `data:` lines' text (an `event:` line and the blank line
        left out), as the server's job events carry it."""
        lines = [line[5:].lstrip(" ") if line.startswith("data:") else None
                 for line in event["bytes"].split("\n")]
        return "\n".join(x for x in lines if x is not None)

    def _escaped_delta(self, event):
        """The user-visible text an event adds, JSON-escaped as a delta answer carries it."""
        if event.get("kind") not in CONTENT_KINDS:
            return ""
        try:
            payload = json.loads(self.data(event))
        except ValueError:
            return ""
        text = ""
        if "choices" in payload:
            for c in payload["choices"]:
                d = c.get("delta") or {}
                text += d.get("content") or d.get("refusal") or ""
                for t in d.get("tool_calls") or []:
                    text += (t.get("function") or {}).get("arguments") or ""
        else:
            text = payload.get("delta") or ""
        return json.dumps(text, ensure_ascii=False)[1:-1]


def load_recording(recording_id, folder=None):
    for d in [folder, FOLDER]:
        if d and os.path.exists(os.path.join(d, recording_id + ".jsonl")):
            return Recording(os.path.join(d, recording_id + ".jsonl"))
    raise FileNotFoundError(f"no recording {recording_id}.jsonl in {folder or ''} or recordings/")
