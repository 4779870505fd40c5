"""The Kubernetes recipe's manifests (docs/k8s/) rendered for one run: each ${NAME} of VARIABLES
replaced by its value, as `envsubst '$SHARDS $RUN ...'` would; the shell of the manifests writes
its own variables without braces ($RUN), so a ${...} left after rendering is a mistake."""
import datetime
import os
import re

DOCS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../docs/k8s"))
# The manifests rendered per run, in the order they are applied (kind-*.yaml are the cluster's).
MANIFESTS = ("pvc.yaml", "server.yaml", "shards.yaml", "merge.yaml", "fetch.yaml")
VARIABLES = ("SHARDS", "RUN", "START_AT", "IMAGE", "STORAGE_CLASS", "WAIT_S")


class RenderError(Exception):
    pass


def render(text, values, name="manifest"):
    """text with ${NAME} replaced for each NAME of VARIABLES; every one must be given and no
    ${...} may remain."""
    missing = sorted(set(VARIABLES) - set(values))
    if missing:
        raise RenderError(f"no value for {', '.join(missing)}")
    out = re.sub(r"\$\{(" + "|".join(VARIABLES) + r")\}", lambda m: str(values[m[1]]), text)
    left = re.search(r"\$\{[^}]*\}", out)
    if left:
        line = out.count("\n", 0, left.start()) + 1
        raise RenderError(f"{name}:{line}: {left[0]} is not a variable of the recipe "
                          f"({', '.join(VARIABLES)})")
    return out


def render_all(values, docs=DOCS):
    """{file name: rendered text} of MANIFESTS."""
    out = {}
    for m in MANIFESTS:
        with open(os.path.join(docs, m)) as f:
            out[m] = render(f.read(), values, m)
    return out


def parse_time(text):
    """Unix seconds (fractions allowed) or ISO-8601 UTC (2026-12-05T03:00:00Z), as the harness's
    --start-at takes them: a UTC datetime."""
    try:
        return datetime.datetime.fromtimestamp(float(text), datetime.timezone.utc)
    except ValueError:
        pass
    if not text.endswith("Z"):
        raise ValueError(f"'{text}' is neither unix seconds nor ISO-8601 UTC ending in Z")
    try:
        t = datetime.datetime.fromisoformat(text[:-1])
    except ValueError:
        raise ValueError(f"'{text}' is neither unix seconds nor ISO-8601 UTC ending in Z")
    return t.replace(tzinfo=datetime.timezone.utc)


def iso(t):
    """2026-12-05T03:10:00Z, fractions of a second kept when there are any."""
    text = t.astimezone(datetime.timezone.utc).replace(tzinfo=None).isoformat()
    return text + "Z"
