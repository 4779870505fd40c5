"""A phone's LTE radio under each transport: its RRC states and energy per user-hour, MODELLED
from packet times (issue 19, part 4). Nothing here is measured: no phone and no radio took part.
The packet times are measured (a capture, or a CSV); what an LTE radio would do with them is the
model's, and every figure this module writes says so (`modelled: true`, "MODELLED" in the text).

The model is the RRC state machine and power model of Huang, Qian, Gerber, Mao, Sen and
Spatscheck, "A Close Examination of Performance and Power Characteristics of 4G LTE Networks",
ACM MobiSys 2012 (https://doi.org/10.1145/2307636.2307658): Table 3 (LTE power model: promotion,
DRX in RRC_CONNECTED, tail, DRX in RRC_IDLE) and Table 4 (data-transfer power,
P = αu·tu + αd·td + β). Per user (one client connection, or one client address):

    RRC_IDLE --first packet--> promotion (Tpro) --> RRC_CONNECTED:
      continuous reception for Ti after each packet (β; any packet restarts it)
      then short DRX for Tis (on Ton every Tps), then long DRX (on Ton every Tpl)
      until Ttail after the last packet --> RRC_IDLE (paging: on Toni every Tpi)

Assumptions, each a choice this model makes and the paper does not fix:
- A user is in RRC_IDLE before its first packet. The promotion a packet needs takes the Tpro
  before that packet's time (or from the moment the radio went idle, if that is later), as AT&T's
  Video Optimizer (ARO) places it (RrcStateRangeFactoryImpl.promoteLTE): the capture shows the
  packet when it got through.
- Ttail counts from the last packet, Ti and Tis included: long DRX lasts Ttail − Ti − Tis.
- A DRX state's power is its average over one cycle: (Ton·P_on + (T − Ton)·P_off) / T.
- Data transfer adds αu per Mbit sent and αd per Mbit received (mJ): Table 4's linear model
  integrated over time, so its total does not depend on how the throughput is windowed. Bytes
  are IP bytes (a capture's ip.len; a CSV's own count).
- RRC_IDLE between paging occasions draws 0 mW of radio power (ARO's P_IDLE): the phone's base
  power is not the radio's and is left out, so every figure is the radio's alone.

Inputs: a capture (pcap or pcapng, any link type tshark reads: loopback, or the raw-IP TUN
captures `scripts/crosscheck/crosscheck.py --link` takes at both ends of ssebench-link, whose
client end is what a phone's radio would carry; the emulator itself logs no packets), or a CSV.

The window: from the start of the promotion the capture's first packet needed, for the span from
the first to the last packet (or --window-s): a periodic schedule then has whole periods in it
(packets at 0, 60, …, 600 s give ten promotions and ten tails in 600 s). Per user-hour = the
window's figures × 3600 / its length.

Where each parameter comes from, and what could be verified here: the paper's PDF was not
readable from this machine (the search corpus holds its first page only). The values are those
of Table 3 and 4 as issue 19's brief quotes them; each was cross-checked against ARO's LTE
profile (github.com/attdevsupport/VideoOptimizer, ARO.Core/src/main/resources/lte.conf and
configuration/impl/ProfileFactoryImpl.java), the tool of the same AT&T Labs group, which carries
them rounded. PARAMETER_SOURCES says, per field, what ARO has and where it differs.
"""
import dataclasses
import json
import math
import os
import shutil
import subprocess

CITATION = ("Huang et al., \"A Close Examination of Performance and Power Characteristics of 4G "
            "LTE Networks\", ACM MobiSys 2012, Table 3 (LTE power model) and Table 4 "
            "(data-transfer power)")
MODELLED = "MODELLED, not measured"
STATES = ("promotion", "continuous", "short_drx", "long_drx", "idle")
HIGH_POWER = ("promotion", "continuous", "short_drx", "long_drx")
PCAP_MAGIC = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
              b"\x0a\x0d\x0d\x0a")
TSHARK_TIMEOUT_S = 300
SECONDS_PER_HOUR = 3600.0


class RadioError(Exception):
    """Bad input: its message is the one line the command prints."""


@dataclasses.dataclass(frozen=True)
class Lte:
    """The LTE parameters, in seconds and milliwatts (PARAMETER_SOURCES: where each comes from)."""
    promotion_s: float = 0.2601  # Tpro, RRC_IDLE -> RRC_CONNECTED
    promotion_mw: float = 1210.7  # P during the promotion
    inactivity_s: float = 0.100  # Ti, continuous reception after a packet (DRX inactivity timer)
    short_drx_s: float = 0.020  # Tis, short DRX before long DRX
    drx_on_s: float = 0.001  # Ton, on-duration of a DRX cycle in RRC_CONNECTED
    short_cycle_s: float = 0.020  # Tps, short DRX cycle
    long_cycle_s: float = 0.040  # Tpl, long DRX cycle
    short_on_mw: float = 1680.2  # P during a short DRX on-duration
    long_on_mw: float = 1680.1  # P during a long DRX on-duration
    tail_base_mw: float = 1060.0  # P in RRC_CONNECTED between DRX on-durations
    tail_s: float = 11.576  # Ttail, RRC inactivity timer: last packet -> RRC_IDLE
    idle_on_s: float = 0.0432  # Toni, paging on-duration in RRC_IDLE
    idle_cycle_s: float = 1.28  # Tpi, paging (DRX) cycle in RRC_IDLE
    idle_on_mw: float = 594.3  # P during a paging on-duration
    idle_off_mw: float = 0.0  # P between paging occasions (radio only; base power left out)
    continuous_mw: float = 1288.04  # β: continuous reception with no data moving
    alpha_up_mw_per_mbps: float = 438.39  # αu
    alpha_down_mw_per_mbps: float = 51.97  # αd

    def power_mw(self, state):
        """A state's mean power; DRX states averaged over one cycle."""
        def cycle(on_s, on_mw, period_s, off_mw):
            return (on_s * on_mw + (period_s - on_s) * off_mw) / period_s
        return {"promotion": self.promotion_mw,
                "continuous": self.continuous_mw,
                "short_drx": cycle(self.drx_on_s, self.short_on_mw, self.short_cycle_s,
                                   self.tail_base_mw),
                "long_drx": cycle(self.drx_on_s, self.long_on_mw, self.long_cycle_s,
                                  self.tail_base_mw),
                "idle": cycle(self.idle_on_s, self.idle_on_mw, self.idle_cycle_s,
                              self.idle_off_mw)}[state]


# Per field: the table it is taken from and what ARO's lte.conf has (seconds, watts, mW/Mbps).
# "brief" = the value as issue 19's brief quotes the paper; none could be read in the paper here.
PARAMETER_SOURCES = {
    "promotion_s": "Table 3, Tpro 260.1 ms (brief); ARO T_PROMOTION=0.26: agrees",
    "promotion_mw": "Table 3, 1210.7 mW (brief); ARO P_PROMOTION=1.21: agrees",
    "inactivity_s": "Ti 100 ms (brief); ARO INACTIVITY_TIMER=0.1: agrees",
    "short_drx_s": "Tis 20 ms: ARO T_SHORT_DRX=0.02; not in the brief, NOT verified in the paper",
    "drx_on_s": "Ton 1 ms, Table 3 as remembered, NOT verified: ARO T_DRX_PING=0.002 (2 ms) "
                "differs (long DRX averages 1075.5 mW with 1 ms, 1091.0 with 2)",
    "short_cycle_s": "Tps 20 ms (brief); ARO T_SHORT_DRX_PING_PERIOD=0.02: agrees",
    "long_cycle_s": "Tpl 40 ms (brief); ARO T_LONG_DRX_PING_PERIOD=0.04: agrees",
    "short_on_mw": "Table 3, 1680.2 mW, NOT verified beyond ARO P_SHORT_DRX_PING=1.68",
    "long_on_mw": "Table 3, 1680.1 mW, NOT verified beyond ARO P_LONG_DRX_PING=1.68",
    "tail_base_mw": "Table 3 tail base 1060.0 mW, NOT verified beyond ARO P_TAIL=1.06",
    "tail_s": "Table 3 Ttail 11.576 s (brief); ARO differs: 0.1 + 0.02 + T_LONG_DRX=10 = 10.12 s",
    "idle_on_s": "Table 3 Toni 43.2 ms, NOT verified beyond ARO T_IDLE_PING=0.043",
    "idle_cycle_s": "Table 3 Tpi 1.28 s, NOT verified beyond ARO T_IDLE_PING_PERIOD=1.28",
    "idle_on_mw": "Table 3, 594.3 mW, NOT verified beyond ARO P_IDLE_PING=0.594",
    "idle_off_mw": "ARO P_IDLE=0.0: the radio's own power, the phone's base power left out",
    "continuous_mw": "Table 4 β 1288.04 mW, NOT verified: ARO LTE_BETA=1.2 W differs",
    "alpha_up_mw_per_mbps": "Table 4 αu 438.39 mW/Mbps, NOT read in the paper; ARO "
                            "LTE_ALPHA_UP=438.39: agrees",
    "alpha_down_mw_per_mbps": "Table 4 αd 51.97 mW/Mbps, NOT read in the paper; ARO "
                              "LTE_ALPHA_DOWN=51.97: agrees",
}


@dataclasses.dataclass
class Packet:
    t_s: float
    ip_bytes: int
    up: bool  # client -> server (the phone sends)
    user: str


def timeline(times, p=Lte()):
    """One user's states: [(start_s, end_s, state)] from −inf to +inf, from its sorted packet
    times (the module's docstring gives the rules)."""
    segs = []
    tail_rest = p.tail_s - p.inactivity_s - p.short_drx_s
    for i, t in enumerate(times):
        if i == 0 or t - times[i - 1] > p.tail_s:
            idle_from = -math.inf if i == 0 else times[i - 1] + p.tail_s
            start = max(idle_from, t - p.promotion_s)
            segs += [(idle_from, start, "idle"), (start, t, "promotion")]
        nxt = times[i + 1] if i + 1 < len(times) else math.inf
        a = t
        for state, length in (("continuous", p.inactivity_s), ("short_drx", p.short_drx_s),
                              ("long_drx", tail_rest)):
            b = min(a + length, nxt)
            segs.append((a, b, state))
            a = b
    segs.append((times[-1] + p.tail_s, math.inf, "idle"))
    return [s for s in segs if s[1] > s[0]]


def window(packets, window_s=None, p=Lte()):
    """(start_s, length_s): from the promotion the first packet needed, for the packets' span
    or window_s."""
    first = min(x.t_s for x in packets)
    length = max(x.t_s for x in packets) - first if window_s is None else window_s
    if not length > 0:
        raise RadioError("the packets span 0 s: give --window-s, the time they stand for")
    return first - p.promotion_s, length


def user_figures(packets, start_s, length_s, p=Lte()):
    """One user's figures over the window, scaled to one hour (the record the command prints)."""
    end_s = start_s + length_s
    times = sorted(x.t_s for x in packets)
    seconds = dict.fromkeys(STATES, 0.0)
    promotions = 0
    for a, b, state in timeline(times, p):
        overlap = min(b, end_s) - max(a, start_s)
        if overlap > 0:
            seconds[state] += overlap
        if state == "promotion" and start_s <= a < end_s:
            promotions += 1
    inside = [x for x in packets if start_s <= x.t_s < end_s]
    up = sum(x.ip_bytes for x in inside if x.up)
    down = sum(x.ip_bytes for x in inside if not x.up)
    state_mj = sum(seconds[s] * p.power_mw(s) for s in STATES)
    data_mj = (up * 8 / 1e6) * p.alpha_up_mw_per_mbps + (down * 8 / 1e6) * p.alpha_down_mw_per_mbps
    k = SECONDS_PER_HOUR / length_s
    out = {"packets": len(inside), "bytes_up": up, "bytes_down": down,
           "promotions_per_hour": promotions * k}
    for s in STATES:
        out[f"{s}_s_per_hour"] = seconds[s] * k
    out["high_power_s_per_hour"] = sum(seconds[s] for s in HIGH_POWER) * k
    out["state_energy_j_per_hour"] = state_mj / 1000 * k
    out["data_energy_j_per_hour"] = data_mj / 1000 * k
    out["energy_j_per_hour"] = (state_mj + data_mj) / 1000 * k
    return out


def model(packets, window_s=None, p=Lte()):
    """{window, users: {user: figures}, mean: figures per user} for packets of many users."""
    if not packets:
        raise RadioError("no packets")
    start, length = window(packets, window_s, p)
    by_user = {}
    for x in packets:
        by_user.setdefault(x.user, []).append(x)
    users = {u: user_figures(xs, start, length, p) for u, xs in sorted(by_user.items())}
    mean = {k: sum(f[k] for f in users.values()) / len(users) for k in next(iter(users.values()))}
    notes = []
    if length < p.tail_s:
        notes.append(f"the window ({length:.3f} s) is shorter than one tail ({p.tail_s} s): "
                     f"per user-hour repeats it {SECONDS_PER_HOUR / length:.0f} times, promotion "
                     "and all; give --window-s, the time the capture stands for")
    return {"modelled": True, "what": MODELLED, "model": CITATION,
            "window_start_s": start, "window_s": length, "users": users, "mean": mean,
            "notes": notes}


# --- input --------------------------------------------------------------------------------

def read_csv(path):
    """Packets of `t_seconds,bytes,direction[,user]` lines (direction up or down; `#` comments,
    blank lines and that header allowed); times must not go backwards."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise RadioError(f"{path}: {getattr(e, 'strerror', None) or e}")
    out, last = [], None
    for n, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        where = f"{path}:{n}"
        cells = [c.strip() for c in text.split(",")]
        if not out and cells[:3] == ["t_seconds", "bytes", "direction"]:
            continue
        if len(cells) not in (3, 4):
            raise RadioError(f"{where}: want t_seconds,bytes,direction[,user], got '{text}'")
        try:
            t = float(cells[0])
        except ValueError:
            t = math.nan
        if not math.isfinite(t):
            raise RadioError(f"{where}: '{cells[0]}' is not a number of seconds")
        if not cells[1].isdigit():
            raise RadioError(f"{where}: '{cells[1]}' is not a whole number of bytes")
        if cells[2] not in ("up", "down"):
            raise RadioError(f"{where}: direction '{cells[2]}' is neither up nor down")
        if last is not None and t < last:
            raise RadioError(f"{where}: t_seconds goes backwards ({cells[0]} after {last:g})")
        last = t
        user = cells[3] if len(cells) == 4 and cells[3] else "user"
        out.append(Packet(t, int(cells[1]), cells[2] == "up", user))
    if not out:
        raise RadioError(f"{path}: no packets")
    return out


TSHARK_FIELDS = ("frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.len",
                 "ipv6.plen", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport")


def read_pcap(path, server_port=None, per="connection"):
    """Packets of a capture's TCP and UDP traffic (tshark), each given to its client: the side
    that is not the server port (--server-port, else the one port every packet has)."""
    if not shutil.which("tshark"):
        raise RadioError("tshark is missing (sudo apt-get install -y tshark)")
    cmd = ["tshark", "-r", path, "-n", "-Y", "tcp or udp", "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=f"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=TSHARK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RadioError(f"tshark -r {path} took more than {TSHARK_TIMEOUT_S} s")
    if r.returncode != 0:
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        raise RadioError(f"tshark -r {path}: {lines[-1] if lines else f'exit {r.returncode}'}")
    rows = []
    for line in r.stdout.splitlines():
        c = line.split("\t")
        if len(c) != len(TSHARK_FIELDS):
            continue
        t, src4, dst4, src6, dst6, len4, plen6, ts, td, us, ud = c
        sport, dport = (ts, td) if ts else (us, ud)
        src, dst = (src4, dst4) if src4 else (src6, dst6)
        size = int(len4) if len4 else int(plen6) + 40 if plen6 else 0
        if not (t and sport and dport and src):
            continue
        rows.append((float(t), src, int(sport), dst, int(dport), size))
    if not rows:
        raise RadioError(f"{path}: no TCP or UDP packets")
    if server_port is None:
        server_port = infer_server_port(path, rows)
    out = []
    for t, src, sport, dst, dport, size in rows:
        if dport == server_port:
            up, client = True, (src, sport)
        elif sport == server_port:
            up, client = False, (dst, dport)
        else:
            continue
        user = client[0] if per == "address" else f"{client[0]}:{client[1]}"
        out.append(Packet(t, size, up, user))
    if not out:
        raise RadioError(f"{path}: no packets to or from port {server_port}")
    out.sort(key=lambda x: x.t_s)  # a merged capture may interleave; each file is in order
    return out


def infer_server_port(path, rows):
    """The one port in every packet; of two (a capture of one connection), the first packet's
    destination (the client's SYN, or its first request)."""
    common = {rows[0][2], rows[0][4]}
    for r in rows:
        common &= {r[2], r[4]}
    if len(common) == 2:
        common = {rows[0][4]}
    if len(common) != 1:
        raise RadioError(f"{path}: no one port is in every packet: give --server-port")
    return common.pop()


def read(path, server_port=None, per="connection"):
    """A capture (by its magic number) or else a CSV."""
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise RadioError(f"{path}: {e.strerror}")
    if magic in PCAP_MAGIC:
        return read_pcap(path, server_port, per), "capture"
    if server_port is not None or per != "connection":
        raise RadioError(f"{path}: --server-port and --per apply to a capture, not a CSV")
    return read_csv(path), "csv"


# --- output -------------------------------------------------------------------------------

def report(result, source, path, per):
    """The text the command prints: the label first, a row per user, the mean."""
    m = result
    k = SECONDS_PER_HOUR / m["window_s"]
    lines = [f"radio: {MODELLED}: an LTE radio's RRC states and energy per user-hour from the "
             f"packet times of {path} ({CITATION}; scripts/ssebench/radio.py)",
             f"window {m['window_s']:.3f} s from the first packet's promotion (x{k:.3f} to one "
             f"hour), {len(m['users'])} user{'s' if len(m['users']) != 1 else ''}"
             + (f" (one per client {per})" if source == "capture" else ""),
             f"{'user':28} {'pkts':>6} {'promos/h':>9} {'high-power':>10} {'promo':>7} "
             f"{'CR':>7} {'shortDRX':>8} {'longDRX':>8} {'idle':>7}  {'J/h':>8} "
             f"{'(states':>8} {'+ data)':>8}",
             f"{'':28} {'':>6} {'':>9} {'s/h':>10} {'s/h':>7} {'s/h':>7} {'s/h':>8} {'s/h':>8} "
             f"{'s/h':>7}"]

    def row(name, f):
        return (f"{name:28} {f['packets']:6.0f} {f['promotions_per_hour']:9.1f} "
                f"{f['high_power_s_per_hour']:10.1f} {f['promotion_s_per_hour']:7.1f} "
                f"{f['continuous_s_per_hour']:7.1f} {f['short_drx_s_per_hour']:8.1f} "
                f"{f['long_drx_s_per_hour']:8.1f} {f['idle_s_per_hour']:7.1f}  "
                f"{f['energy_j_per_hour']:8.1f} {f['state_energy_j_per_hour']:8.1f} "
                f"{f['data_energy_j_per_hour']:8.2f}")
    for u, f in m["users"].items():
        lines.append(row(u, f))
    if len(m["users"]) > 1:
        lines.append(row("mean per user", m["mean"]))
    lines += [f"note: {n}" for n in m["notes"]]
    return "\n".join(lines)


def write_json(path, result, source, input_path, p=Lte()):
    doc = dict(result, input=input_path, input_kind=source,
               parameters=dataclasses.asdict(p), parameter_sources=PARAMETER_SOURCES,
               state_power_mw={s: p.power_mw(s) for s in STATES})
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
