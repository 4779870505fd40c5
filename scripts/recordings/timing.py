#!/usr/bin/python3
"""Deterministic, seeded event timing for recordings whose captures carry no timing.

No public capture keeps arrival times, so every recording's offsets come from this generator,
driven by a named profile in recordings/profiles.json and a per-recording seed. The same profile,
seed and event list always give the same offsets, on any machine: the random numbers come from
our own splitmix64 (not Python's `random`, whose algorithms may change), and every draw happens in
a fixed order.

The model (parameters per profile, see recordings/README.md "Timing"):
  - time to first token  TTFT = ttft_ms * exp(ttft_sigma * Z)             (lognormal, median ttft_ms)
  - gap between tokens   g = (1 / tokens_per_s) * exp(gap_sigma * Z)     (lognormal, median 1/rate)
                         + with probability stall_probability a stall of
                           stall_scale_ms * U^(-1/stall_shape), capped at stall_max_ms (Pareto)
  - small gap            s = small_gap_us * exp(small_gap_sigma * Z)      (between adjacent
                           bookkeeping events: usage after finish, *.done after *.done, ...)
Z is a standard normal (Box-Muller), U uniform on (0, 1).

Placement of events (schedule()): content events sit on the token clock; each other event is
attached to the content it belongs to. See schedule() for the exact rules.
"""

import json
import math

MASK64 = (1 << 64) - 1
GENERATOR = "scripts/recordings/timing.py"


class SplitMix64:
    """splitmix64 (Steele, Lea, Flood 2014; the seeding generator of xoshiro), 64-bit state."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self):
        """Uniform on the open interval (0, 1): 53 random bits, centred in their cell."""
        return ((self.next_u64() >> 11) + 0.5) / 9007199254740992.0

    def normal(self):
        """Standard normal by Box-Muller; one value per two uniforms (the cosine branch)."""
        u1 = self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def lognormal(self, median, sigma):
        return median * math.exp(sigma * self.normal())

    def pareto(self, scale, shape):
        return scale * self.uniform() ** (-1.0 / shape)

    def text(self, length, alphabet):
        return "".join(alphabet[self.next_u64() % len(alphabet)] for _ in range(length))


PROFILE_FIELDS = (
    "ttft_ms", "ttft_sigma", "tokens_per_s", "gap_sigma", "stall_probability", "stall_scale_ms",
    "stall_shape", "stall_max_ms", "small_gap_us", "small_gap_sigma", "lifecycle_fraction")


class Profile:
    """One model class's timing parameters (defaults merged with the profile's own)."""

    def __init__(self, name, params):
        self.name = name
        missing = [f for f in PROFILE_FIELDS if f not in params]
        if missing:
            raise ValueError(f"profile {name}: missing {', '.join(missing)}")
        for f in PROFILE_FIELDS:
            setattr(self, f, float(params[f]))
        self.models = list(params.get("models", []))
        self.source = params.get("source")

    def mean_gap_us(self):
        """Expected gap between tokens: lognormal mean + expected (uncapped) stall."""
        body = 1e6 / self.tokens_per_s * math.exp(self.gap_sigma ** 2 / 2)
        stall = self.stall_probability * self.stall_scale_ms * 1000 * self.stall_shape / (
            self.stall_shape - 1) if self.stall_shape > 1 else math.inf
        return body + stall


def load_profiles(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    defaults = doc.get("defaults", {})
    return {name: Profile(name, {**defaults, **p}) for name, p in doc["profiles"].items()}


def profile_for_model(profiles, model):
    """The profile whose `models` prefix matches `model` longest (gpt-4o-mini beats gpt-4o)."""
    best, best_len = None, -1
    for p in profiles.values():
        for prefix in p.models:
            if model.startswith(prefix) and len(prefix) > best_len:
                best, best_len = p, len(prefix)
    if best is None:
        raise ValueError(f"no timing profile matches model {model!r}")
    return best


class Clock:
    """The random draws of one recording, in the order they are made."""

    def __init__(self, profile, seed, parallel=1):
        self.p = profile
        self.rng = SplitMix64(seed)
        self.parallel = parallel  # n>1 choices are generated side by side: gaps shrink n-fold

    def ttft_us(self):
        return self.p.ttft_ms * 1000 * math.exp(self.p.ttft_sigma * self.rng.normal())

    def gap_us(self):
        p = self.p
        g = self.rng.lognormal(1e6 / p.tokens_per_s, p.gap_sigma) / self.parallel
        if self.rng.uniform() < p.stall_probability:
            g += min(self.rng.pareto(p.stall_scale_ms * 1000, p.stall_shape), p.stall_max_ms * 1000)
        return g

    def small_us(self):
        return self.rng.lognormal(self.p.small_gap_us, self.p.small_gap_sigma)

    def token_times(self, tokens):
        """Times of `tokens` tokens: the first at TTFT, then one gap each."""
        t = [self.ttft_us()]
        self.lead_gap = self.gap_us()
        for _ in range(tokens - 1):
            t.append(t[-1] + self.gap_us())
        return t


# What an event is for placement purposes.
CONTENT = "content"  # carries output: sits on the token clock
OPEN = "open"  # bookkeeping that announces the next content (role chunk, tool header, *.added)
CLOSE = "close"  # bookkeeping that ends what came before (finish, usage, *.done, error, completed)
SAME = "same"  # sent together with the event before it ([DONE] after usage)
LIFECYCLE = "lifecycle"  # Responses response.created / response.in_progress, before any work


def schedule(roles, profile, seed, tokens=None, parallel=1):
    """Offsets in integer microseconds, non-decreasing, one per entry of `roles`.

    Rules, in the order the random numbers are drawn:
      1. TTFT, then one "lead" gap, then tokens-1 gaps build the token clock. `tokens` is the
         recorded completion-token count when it exceeds the number of content events (tool-call
         arguments arrive several tokens per fragment); content event j is sent when token
         ceil((j+1) * tokens / contents) is ready, so the first content event is at TTFT when
         every event carries one token.
      2. LIFECYCLE events: the first at lifecycle_fraction * TTFT, each next one a small gap later.
      3. OPEN events before the first content event are spread evenly over the lead gap before it
         (the role chunk one gap before the first content); later OPEN events are sent with the
         content event that follows them.
      4. CLOSE events after the last content event: the first one gap after it (the model still
         has to produce its stop token), each next one a small gap after the event before. CLOSE
         events between content events: a small gap after the event before, never later than the
         next content event. Without any content event, the first CLOSE comes at TTFT.
      5. SAME events take the time of the event before.
    Gaps for CLOSE events are drawn after the token clock, so a recording that is a prefix of
    another (same profile and seed) gets the same content times.
    """
    clock = Clock(profile, seed, parallel)
    content_idx = [i for i, r in enumerate(roles) if r == CONTENT]
    n = len(content_idx)
    total_tokens = max(n, tokens or 0, 1)
    ttimes = clock.token_times(total_tokens)
    ttft = ttimes[0]
    times = [None] * len(roles)
    for j, i in enumerate(content_idx):
        times[i] = ttimes[math.ceil((j + 1) * total_tokens / n) - 1]

    # Lifecycle first (they precede everything).
    prev = None
    for i, r in enumerate(roles):
        if r == LIFECYCLE:
            times[i] = profile.lifecycle_fraction * ttft if prev is None else prev + clock.small_us()
            prev = times[i]

    next_content = [None] * len(roles)
    nxt = None
    for i in range(len(roles) - 1, -1, -1):
        next_content[i] = nxt
        if roles[i] == CONTENT:
            nxt = times[i]
    first_content = times[content_idx[0]] if n else None

    leading = [i for i, r in enumerate(roles) if r == OPEN and (n and i < content_idx[0])]
    for k, i in enumerate(leading):
        times[i] = first_content - clock.lead_gap * (len(leading) - k) / len(leading)

    prev = None
    seen_content = False
    trailing_started = False
    for i, r in enumerate(roles):
        if times[i] is not None:
            prev = times[i]
            seen_content = seen_content or r == CONTENT
            continue
        if r == OPEN and next_content[i] is not None:
            times[i] = next_content[i]
        elif r == SAME:
            times[i] = prev if prev is not None else ttft
        else:  # CLOSE, or an OPEN with no content after it
            if next_content[i] is None and not trailing_started:
                trailing_started = True
                times[i] = (prev + clock.gap_us()) if seen_content else max(ttft, prev or 0)
            else:
                times[i] = prev + clock.small_us()
                if next_content[i] is not None:
                    times[i] = min(times[i], next_content[i])
        prev = times[i]

    out, last = [], 0
    for t in times:
        last = max(last, int(round(t)))
        out.append(last)
    return out


def token_clock_end_us(profile, seed, tokens):
    """When the last of `tokens` tokens is ready (for answers recorded without a stream)."""
    return int(round(Clock(profile, seed).token_times(tokens)[-1]))


def gap_sample_us(profile, seed, count):
    """`count` consecutive token gaps, for statistical checks of the generator."""
    clock = Clock(profile, seed)
    return [clock.gap_us() for _ in range(count)]
