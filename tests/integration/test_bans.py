"""Bans through the real binary: a client that trips the WAF (or a rate limit) a
threshold number of times within a window is answered 403 with Retry-After for the
ban's duration, on every route of the listener and without reaching the backend;
other clients are not affected; the ban lifts by itself; a reload keeps it; a global
ban started on one instance shuts the client out of another through a real
redis-server; bad configuration names the line."""

import http.client as hc
import signal
import time
import unittest

from harness import Backend, Gateway, check_config, metric, wait_metric
from test_ratelimit_redis import Redis

CONFIG = """
waf:
  rule_sets:
    mini:
      rules: |
        SecRule ARGS:x "@streq attack" "id:1001,phase:1,deny,status:403,log,msg:'test attack'"
rate_limits:
  - {{ name: tight, key: [client_ip], rate: 1/m, burst: 1 }}
bans:
  - {{ name: abuse, on: [waf, rate_limit], threshold: 3, window: 10s, duration: 2s }}
listeners:
  - name: main
    listen: ["127.0.0.1:{port}", "127.0.0.2:{port}", "127.0.0.3:{port}"]
    waf: {{ rule_set: mini, mode: block }}
    bans: [abuse]
pools:
  - {{ name: app, endpoints: ["{backend}"] }}
routes:
  - {{ name: limited, match: {{ path: {{ prefix: /limited }} }}, pool: app, rate_limits: [tight] }}
  - {{ name: app, pool: app }}
"""


def get(port, path, source="127.0.0.1"):
    c = hc.HTTPConnection(source, port, timeout=5, source_address=(source, 0))
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    finally:
        c.close()


class BanTest(unittest.TestCase):
    def setUp(self):
        self.backend = Backend()
        self.gw = Gateway(CONFIG, extra={"backend": self.backend.address}).start()

    def tearDown(self):
        self.gw.stop()
        self.backend.close()

    def test_waf_offences_ban_then_the_ban_lifts(self):
        port = self.gw.port
        self.assertEqual(get(port, "/a")[0], 200)
        for i in range(3):
            st, _, body = get(port, "/a?x=attack")
            self.assertEqual(st, 403)
            self.assertIn("web application firewall", body)
        seen = self.backend.count()
        # Banned now: a harmless request on any route is refused and never reaches the backend.
        for path in ("/a", "/other", "/limited"):
            st, h, body = get(port, path)
            self.assertEqual(st, 403, path)
            self.assertIn("banned", body)
            self.assertIn("ban 'abuse'", body)
            self.assertIn("request id:", body)
            self.assertIn(int(h["retry-after"]), (1, 2))
            self.assertEqual(h.get("connection"), "close")
        self.assertEqual(self.backend.count(), seen)
        # Another client is not affected.
        self.assertEqual(get(port, "/a", source="127.0.0.2")[0], 200)
        self.assertEqual(metric(self.gw.admin, "rampart_bans_started_total", {"ban": "abuse"}), 1)
        self.assertGreaterEqual(wait_metric(self.gw.admin, "rampart_bans_rejected_total", {"ban": "abuse"}, 3), 3)
        self.assertEqual(metric(self.gw.admin, "rampart_bans_active", {"ban": "abuse"}), 1)
        self.assertIn("ban 'abuse': 127.0.0.1/32 banned for 2 s after 3 offences", self.gw.output())
        time.sleep(2.2)
        self.assertEqual(get(port, "/a")[0], 200)
        self.assertEqual(metric(self.gw.admin, "rampart_bans_active", {"ban": "abuse"}), 0)
        recs = [r for r in self.gw.access_records() if r.get("status") == 403 and "banned" in (r.get("error") or "")]
        self.assertEqual(len(recs), 3)

    def test_below_threshold_and_window(self):
        port = self.gw.port
        for _ in range(2):
            self.assertEqual(get(port, "/a?x=attack", source="127.0.0.2")[0], 403)
        self.assertEqual(get(port, "/a", source="127.0.0.2")[0], 200, "two offences of three: not banned")

    def test_rate_limit_offences_ban(self):
        port, src = self.gw.port, "127.0.0.3"
        self.assertEqual(get(port, "/limited", source=src)[0], 200)
        for _ in range(3):
            self.assertEqual(get(port, "/limited", source=src)[0], 429)
        st, _, body = get(port, "/a", source=src)
        self.assertEqual(st, 403)
        self.assertIn("banned", body)

    def test_reload_keeps_bans(self):
        port = self.gw.port
        for _ in range(3):
            get(port, "/a?x=attack")
        self.gw.signal(signal.SIGHUP)
        deadline = time.time() + 5
        while time.time() < deadline and "reload done" not in self.gw.output():
            time.sleep(0.05)
        self.assertIn("reload done", self.gw.output())
        self.assertEqual(get(port, "/a")[0], 403)


GLOBAL = """
redis:
  address: 127.0.0.1:{redis}
  replicas: 2
  sync_interval: 50ms
  timeout: 200ms
waf:
  rule_sets:
    mini:
      rules: |
        SecRule ARGS:x "@streq attack" "id:1001,phase:1,deny,status:403,log"
bans:
  - {{ name: fleet, on: [waf], threshold: 2, window: 1m, duration: 30s, scope: global }}
listeners:
  - {{ name: main, listen: 127.0.0.1:{port}, waf: {{ rule_set: mini, mode: block }}, bans: [fleet] }}
routes:
  - {{ name: ok, direct_response: {{ status: 200, body: ok }} }}
"""


class GlobalBanTest(unittest.TestCase):
    def test_a_ban_started_on_one_instance_holds_on_another(self):
        redis = Redis().start()
        gws = [Gateway(GLOBAL, extra={"redis": redis.port}).start() for _ in range(2)]
        try:
            for _ in range(2):
                self.assertEqual(get(gws[0].port, "/?x=attack")[0], 403)
            self.assertEqual(get(gws[0].port, "/")[0], 403)
            # The other instance learns of it within a few sync intervals.
            deadline = time.time() + 3
            st = 200
            while time.time() < deadline:
                st, h, body = get(gws[1].port, "/")
                if st == 403:
                    break
                time.sleep(0.02)
            self.assertEqual(st, 403)
            self.assertIn("banned", body)
            self.assertGreater(int(h["retry-after"]), 20)
            self.assertEqual(metric(gws[1].admin, "rampart_bans_active", {"ban": "fleet"}), 1)
            self.assertEqual(metric(gws[1].admin, "rampart_bans_started_total", {"ban": "fleet"}), 0)
            self.assertIn("127.0.0.1", redis.cli("ZRANGE", "rampart:rl:ban:fleet", "0", "-1"))
        finally:
            for g in gws:
                g.stop()
            redis.kill()


class BanConfigTest(unittest.TestCase):
    BASE = ("listeners: [{ name: m, listen: 127.0.0.1:1, bans: [b] }]\n"
            "routes: [{ name: r, direct_response: { status: 200 } }]\n")

    def check(self, text):
        return check_config(text)[:2]

    def test_errors_name_the_line(self):
        for bad, msg in [("on: [sqli]", "'sqli' is not an offence"), ("threshold: 0", "bans.threshold"),
                         ("window: soon", "bans.window"), ("scope: global", "needs a top-level redis section"),
                         ("scope: planet", "local or global"), ("colour: red", "colour")]:
            rc, out = self.check(self.BASE + "bans:\n  - { name: b, " + bad + " }\n")
            self.assertEqual(rc, 1, bad + "\n" + out)
            self.assertIn(":4:", out, bad)
            self.assertIn(msg, out, bad)
        rc, out = self.check(self.BASE + "bans:\n  - { name: c }\n")
        self.assertEqual(rc, 1)
        self.assertIn("unknown ban 'b'", out)
        rc, out = self.check(self.BASE + "bans:\n  - { name: b, threshold: 5, window: 1m, duration: 10m }\n")
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    unittest.main()
