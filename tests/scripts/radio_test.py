#!/usr/bin/python3
"""scripts/radio and ssebench/radio.py (issue 19, part 4): the LTE RRC model on synthetic packet
times whose states and joules are worked by hand below from the parameters of Huang et al.,
MobiSys 2012 (Table 3 and 4), a capture of two users written here and read through tshark
(skipped without tshark), and bad input as one line and exit 2.

The hand-worked powers (mW), from the parameters in ssebench/radio.py:
  short DRX = (1 ms × 1680.2 + 19 ms × 1060.0) / 20 ms = 1091.01
  long DRX  = (1 ms × 1680.1 + 39 ms × 1060.0) / 40 ms = 1075.5025
  idle      = 43.2 ms × 594.3 / 1280 ms                = 20.057625
A tail after a lone packet: 100 ms continuous reception, 20 ms short DRX, 11.576 − 0.12 = 11.456 s
long DRX; each promotion 260.1 ms at 1210.7 mW; continuous reception 1288.04 mW (β).
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

from ssebench import radio

SCRIPTS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "../../scripts"))
P_SHORT, P_LONG, P_IDLE = 1091.01, 1075.5025, 20.057625
# One lone packet's high-power time and energy (s, mJ), promotion and tail.
TAIL_S = 0.2601 + 0.1 + 0.02 + 11.456
TAIL_MJ = 0.2601 * 1210.7 + 0.1 * 1288.04 + 0.02 * P_SHORT + 11.456 * P_LONG


def packets(times, size=100, up=False, user="u"):
    return [radio.Packet(t, size, up, user) for t in times]


def run(*args, cwd=None):
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, "radio"), *args],
                          capture_output=True, text=True, cwd=cwd)


class Powers(unittest.TestCase):
    def test_the_drx_states_average_their_cycle(self):
        p = radio.Lte()
        self.assertAlmostEqual(p.power_mw("short_drx"), P_SHORT, places=6)
        self.assertAlmostEqual(p.power_mw("long_drx"), P_LONG, places=6)
        self.assertAlmostEqual(p.power_mw("idle"), P_IDLE, places=6)


class Model(unittest.TestCase):
    def figures(self, times, window_s=None, **kw):
        r = radio.model(packets(times, **kw), window_s)
        self.assertTrue(r["modelled"])
        return r["users"]["u"], r

    def test_one_packet_is_a_promotion_a_tail_then_idle(self):
        f, r = self.figures([5.0], window_s=60, size=1000)
        self.assertAlmostEqual(r["window_start_s"], 5.0 - 0.2601)
        k = 60  # a 60 s window is one minute of an hour
        self.assertAlmostEqual(f["promotions_per_hour"], 1 * k)
        self.assertAlmostEqual(f["promotion_s_per_hour"], 0.2601 * k)
        self.assertAlmostEqual(f["continuous_s_per_hour"], 0.1 * k)
        self.assertAlmostEqual(f["short_drx_s_per_hour"], 0.02 * k)
        self.assertAlmostEqual(f["long_drx_s_per_hour"], 11.456 * k)
        self.assertAlmostEqual(f["idle_s_per_hour"], (60 - TAIL_S) * k)
        self.assertAlmostEqual(f["high_power_s_per_hour"], TAIL_S * k)
        state_mj = TAIL_MJ + (60 - TAIL_S) * P_IDLE
        self.assertAlmostEqual(f["state_energy_j_per_hour"], state_mj / 1000 * k, places=6)
        # 1,000 bytes down: 0.008 Mbit × 51.97 mW/Mbps = 0.41576 mJ.
        self.assertAlmostEqual(f["data_energy_j_per_hour"], 0.41576 / 1000 * k, places=9)
        self.assertAlmostEqual(f["energy_j_per_hour"], (state_mj + 0.41576) / 1000 * k, places=6)

    def test_a_packet_every_second_never_leaves_connected(self):
        f, r = self.figures([float(t) for t in range(601)])
        self.assertEqual(r["window_s"], 600)
        k = 6
        self.assertAlmostEqual(f["idle_s_per_hour"], 0)
        self.assertAlmostEqual(f["promotions_per_hour"], 1 * k)  # the first packet's only
        self.assertAlmostEqual(f["high_power_s_per_hour"], 3600)
        # 600 gaps of 1 s: 0.1 continuous, 0.02 short, 0.88 long each, the last cut at the
        # window's end (599.7399): 0.6199 long.
        self.assertAlmostEqual(f["continuous_s_per_hour"], 600 * 0.1 * k)
        self.assertAlmostEqual(f["short_drx_s_per_hour"], 600 * 0.02 * k)
        self.assertAlmostEqual(f["long_drx_s_per_hour"], (599 * 0.88 + 0.6199) * k)

    def test_a_packet_a_minute_is_one_promotion_and_tail_a_minute(self):
        f, _ = self.figures([60.0 * i for i in range(11)])
        self.assertAlmostEqual(f["promotions_per_hour"], 60)
        self.assertAlmostEqual(f["high_power_s_per_hour"], 60 * TAIL_S)
        self.assertAlmostEqual(f["idle_s_per_hour"], 60 * (60 - TAIL_S))
        self.assertAlmostEqual(f["state_energy_j_per_hour"],
                               60 * (TAIL_MJ + (60 - TAIL_S) * P_IDLE) / 1000, places=6)

    def test_figures_per_user_hour_do_not_depend_on_the_length(self):
        ten, _ = self.figures([60.0 * i for i in range(11)])
        twenty, _ = self.figures([60.0 * i for i in range(21)])
        hour, r = self.figures([60.0 * i for i in range(61)])
        self.assertEqual(r["window_s"], 3600)
        for key in ten:
            if key.endswith("_per_hour"):
                self.assertAlmostEqual(ten[key], twenty[key], places=6, msg=key)
                self.assertAlmostEqual(ten[key], hour[key], places=6, msg=key)
        self.assertEqual((ten["packets"], twenty["packets"], hour["packets"]), (10, 20, 60))

    def test_a_window_shorter_than_a_tail_says_so(self):
        _, short = self.figures([0.0, 2.0])
        self.assertEqual(len(short["notes"]), 1)
        self.assertIn("shorter than one tail", short["notes"][0])
        self.assertIn("give --window-s", radio.report(short, "csv", "x.csv", "connection"))
        _, given = self.figures([0.0, 2.0], window_s=3600)
        self.assertEqual(given["notes"], [])
        self.assertAlmostEqual(given["users"]["u"]["promotions_per_hour"], 1)

    def test_a_gap_just_past_the_tail_promotes_only_for_what_is_left(self):
        # Idle at 11.576 s, the next packet at 11.7: a promotion of 0.124 s, not 0.2601.
        segs = radio.timeline([0.0, 11.7])
        promos = [(a, b) for a, b, s in segs if s == "promotion"]
        self.assertEqual(len(promos), 2)
        self.assertAlmostEqual(promos[1][0], 11.576)
        self.assertAlmostEqual(promos[1][1] - promos[1][0], 0.124)
        idle = [(a, b) for a, b, s in segs if s == "idle"]
        self.assertEqual(len(idle), 2)  # before the first packet, after the last: none between

    def test_a_packet_inside_the_tail_restarts_it_without_a_promotion(self):
        segs = radio.timeline([0.0, 5.0])
        self.assertEqual([s for _, _, s in segs],
                         ["idle", "promotion", "continuous", "short_drx", "long_drx",
                          "continuous", "short_drx", "long_drx", "idle"])
        self.assertAlmostEqual(segs[4][1], 5.0)  # the first long DRX ends at the packet

    def test_each_user_is_its_own_radio_over_one_window(self):
        both = packets([float(t) for t in range(601)], user="a") + \
            packets([60.0 * i for i in range(11)], user="b")
        both.sort(key=lambda x: x.t_s)
        r = radio.model(both)
        self.assertAlmostEqual(r["users"]["a"]["idle_s_per_hour"], 0)
        self.assertAlmostEqual(r["users"]["b"]["promotions_per_hour"], 60)
        self.assertAlmostEqual(r["mean"]["promotions_per_hour"], (6 + 60) / 2)

    def test_a_user_that_starts_later_was_idle_until_then(self):
        both = packets([0.0, 600.0], user="a") + packets([300.0], user="b")
        r = radio.model(both)
        b = r["users"]["b"]
        self.assertAlmostEqual(b["high_power_s_per_hour"], TAIL_S * 6)
        self.assertAlmostEqual(b["idle_s_per_hour"], (600 - TAIL_S) * 6)


def pcap(path, frames):
    """A libpcap file of raw IPv4 (link type 101) TCP segments: (t_s, src, sport, dst, dport,
    payload bytes); checksums left 0 (tshark does not check them by default)."""
    def addr(a):
        return bytes(int(x) for x in a.split("."))
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for t, src, sport, dst, dport, n in frames:
            tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, 0x18, 65535, 0, 0)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + n, 0, 0, 64, 6, 0, addr(src),
                             addr(dst))
            data = ip + tcp + b"x" * n
            sec = int(t)
            f.write(struct.pack("<IIII", sec, round((t - sec) * 1e6), len(data), len(data)))
            f.write(data)


@unittest.skipUnless(shutil.which("tshark"), "tshark is not installed")
class Capture(unittest.TestCase):
    """Two users of one server (port 8080): one polls every second, one every minute; each
    request (60 bytes of payload, 100 of IP) gets an answer (160 of payload, 200 of IP). tshark
    reads the file three times, once per command below (seconds each on a loaded machine)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        path = os.path.join(cls.tmp.name, "two.pcap")
        frames = []
        for t in range(601):
            frames += [(1000.0 + t, "10.0.0.2", 40000, "10.0.0.1", 8080, 60),
                       (1000.0 + t + 0.01, "10.0.0.1", 8080, "10.0.0.2", 40000, 160)]
        for i in range(11):
            t = 1000.5 + 60 * i
            frames += [(t, "10.0.0.3", 40001, "10.0.0.1", 8080, 60),
                       (t + 0.01, "10.0.0.1", 8080, "10.0.0.3", 40001, 160)]
        frames.sort()
        pcap(path, frames)
        cls.json_path = os.path.join(cls.tmp.name, "radio.json")
        cls.inferred = run(path, "--json", cls.json_path)
        cls.by_address = run(path, "--server-port=8080", "--per", "address")
        cls.wrong_port = run(path, "--server-port=9")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_each_client_is_a_user_with_its_own_states_and_bytes(self):
        p = self.inferred  # the server port: the one in every packet
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("MODELLED", p.stdout.splitlines()[0])
        with open(self.json_path) as f:
            doc = json.load(f)
        self.assertTrue(doc["modelled"])
        self.assertEqual(doc["input_kind"], "capture")
        self.assertEqual(sorted(doc["users"]), ["10.0.0.2:40000", "10.0.0.3:40001"])
        every_s, every_min = doc["users"]["10.0.0.2:40000"], doc["users"]["10.0.0.3:40001"]
        # The window: from the promotion before 1000.0 (999.7399) for the span to the last
        # packet, 1600.51: 600.51 s, to 1600.2499.
        self.assertAlmostEqual(doc["window_s"], 600.51, places=4)
        k = 3600 / 600.51
        self.assertAlmostEqual(every_s["idle_s_per_hour"], 0)
        # The second's user: every request and answer to 1600.01 is inside.
        self.assertEqual((every_s["bytes_up"], every_s["bytes_down"]), (601 * 100, 601 * 200))
        # The minute's user: requests at 1000.5 … 1540.5 inside (20 packets); the one at 1600.5
        # is not, but 0.01 s of the promotion it needs (from 1600.2399) is.
        self.assertEqual(every_min["packets"], 20)
        self.assertEqual((every_min["bytes_up"], every_min["bytes_down"]), (1000, 2000))
        self.assertAlmostEqual(every_min["promotions_per_hour"], 11 * k, places=6)
        # Each answer 10 ms after its request: 10 ms more of continuous reception a minute.
        self.assertAlmostEqual(every_min["high_power_s_per_hour"],
                               (10 * (TAIL_S + 0.01) + 0.01) * k, places=4)
        data_mj = 1000 * 8 / 1e6 * 438.39 + 2000 * 8 / 1e6 * 51.97
        self.assertAlmostEqual(every_min["data_energy_j_per_hour"], data_mj / 1000 * k, places=6)

    def test_per_address_merges_a_clients_connections(self):
        p = self.by_address
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [x.split() for x in p.stdout.splitlines()[4:]]
        self.assertEqual([r[0] for r in rows], ["10.0.0.2", "10.0.0.3", "mean"])
        # The same rows as per connection, the port given or found.
        per_conn = [x.split()[1:] for x in self.inferred.stdout.splitlines()[4:]]
        self.assertEqual([r[1:] for r in rows[:2]], per_conn[:2])

    def test_a_port_no_packet_uses_is_refused(self):
        p = self.wrong_port
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr.strip().count("\n"), 0, p.stderr)
        self.assertIn("no packets to or from port 9", p.stderr)


class BadInput(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def refused(self, text, *args, says):
        path = os.path.join(self.tmp.name, "in.csv")
        with open(path, "w") as f:
            f.write(text)
        p = run(path, *args, cwd=self.tmp.name)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("radio: "), lines[0])
        self.assertIn(says, lines[0])
        self.assertNotIn("Traceback", p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertEqual(os.listdir(self.tmp.name), ["in.csv"])  # no --json half-written
        os.remove(path)

    def test_empty(self):
        self.refused("", "--json=out.json", says="in.csv: no packets")
        self.refused("# only a comment\nt_seconds,bytes,direction\n\n", says="no packets")

    def test_unsorted(self):
        self.refused("0,10,up\n5,10,down\n4,10,up\n", "--json=out.json",
                     says="in.csv:3: t_seconds goes backwards (4 after 5)")

    def test_malformed_lines(self):
        self.refused("0,10\n", says="in.csv:1: want t_seconds,bytes,direction[,user], got '0,10'")
        # The other messages from the reader itself (the command prints them as above).
        path = os.path.join(self.tmp.name, "in.csv")
        for text, says in (("0,10,up\nsoon,10,up\n", "in.csv:2: 'soon' is not a number of seconds"),
                           ("nan,10,up\n", "'nan' is not a number of seconds"),
                           ("0,-3,up\n", "'-3' is not a whole number of bytes"),
                           ("0,1.5,up\n", "'1.5' is not a whole number of bytes"),
                           ("0,10,sideways\n", "direction 'sideways' is neither up nor down"),
                           ("0,10,up,a,b\n", "in.csv:1: want")):
            with self.subTest(text=text):
                with open(path, "w") as f:
                    f.write(text)
                with self.assertRaises(radio.RadioError) as e:
                    radio.read_csv(path)
                self.assertIn(says, str(e.exception))
                self.assertNotIn("\n", str(e.exception))

    def test_one_instant_needs_a_window(self):
        self.refused("3,10,up\n", says="the packets span 0 s: give --window-s")
        self.refused("3,10,up\n", "--window-s=0", says="--window-s takes a positive number")
        self.refused("3,10,up\n", "--window-s", "soon", says="--window-s takes a number")

    def test_capture_options_on_a_csv(self):
        self.refused("0,10,up\n1,10,down\n", "--server-port=80",
                     says="--server-port and --per apply to a capture")

    def test_no_file_or_not_a_capture(self):
        p = run(os.path.join(self.tmp.name, "missing.pcap"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("missing.pcap: No such file or directory", p.stderr)
        self.refused("\x0a\x0d\x0d\x0agarbage", says="tshark -r")

    def test_a_csv_with_users_and_a_header(self):
        path = os.path.join(self.tmp.name, "in.csv")
        with open(path, "w") as f:
            f.write("t_seconds,bytes,direction,user\n0,10,up,a\n0.5,10,down,b\n60,10,up,a\n")
        p = run(path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([x.split()[0] for x in p.stdout.splitlines()[4:]], ["a", "b", "mean"])


if __name__ == "__main__":
    unittest.main()
