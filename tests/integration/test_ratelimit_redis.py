"""Global rate limits through Redis with the real binary and a real redis-server
started here: three instances under one global limit admit within the bound of
gateway/ratelimit/global_limiter.h in total; Redis load follows the sync interval,
not the request rate; Redis killed mid-run -> fail open (limit / replicas locally) or
closed, as configured, with no request stalled; recovery when it returns; bad
configuration."""

import http.client as httpclient
import math
import os
import signal
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import RAMPART, Gateway, free_port, metric, wait_port

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


class Redis:
    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="rampart-redis-")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_port(self.port), "redis-server did not start"
        return self

    def kill(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None

    def cli(self, *args):
        return subprocess.run([REDIS_CLI, "-p", str(self.port), *args], capture_output=True, text=True,
                              timeout=10).stdout

    def commands(self):
        """Commands clients sent (EVAL and PING; the calls a script makes are not counted)."""
        total = 0
        for line in self.cli("INFO", "commandstats").splitlines():
            if line.startswith(("cmdstat_eval:", "cmdstat_ping:")):
                total += int(line.split("calls=")[1].split(",")[0])
        return total


class Client:
    """Keep-alive requests on one connection (reconnecting when closed)."""

    def __init__(self, port):
        self.port = port
        self.c = None

    def get(self, path):
        for _ in range(2):
            try:
                if self.c is None:
                    self.c = httpclient.HTTPConnection("127.0.0.1", self.port, timeout=5)
                self.c.request("GET", path)
                r = self.c.getresponse()
                r.read()
                return r.status, r.getheader("Retry-After")
            except (OSError, httpclient.HTTPException):
                self.c.close()
                self.c = None
        raise RuntimeError("request failed twice")

    def close(self):
        if self.c:
            self.c.close()


CONFIG = """
redis:
  address: 127.0.0.1:{redis}
  replicas: {replicas}
  sync_interval: 50ms
  timeout: 200ms
rate_limits:
  - {{ name: fleet, key: [route], rate: {rate}/s, scope: global }}
  - {{ name: open, key: [route], rate: 10/s, scope: global, on_redis_error: open }}
  - {{ name: closed, key: [route], rate: 10/s, scope: global, on_redis_error: closed }}
listeners:
  - {{ name: main, listen: 127.0.0.1:{port} }}
routes:
  - {{ name: fleet, match: {{ path: {{ prefix: /fleet }} }}, rate_limits: [fleet], direct_response: {{ status: 200, body: ok }} }}
  - {{ name: open, match: {{ path: {{ prefix: /open }} }}, rate_limits: [open], direct_response: {{ status: 200, body: ok }} }}
  - {{ name: closed, match: {{ path: {{ prefix: /closed }} }}, rate_limits: [closed], direct_response: {{ status: 200, body: ok }} }}
"""


class GlobalLimitTest(unittest.TestCase):
    def setUp(self):
        self.redis = Redis().start()

    def tearDown(self):
        self.redis.kill()

    def test_three_instances_share_one_limit(self):
        rate, n, seconds = 40, 3, 3.0
        gws = [Gateway(CONFIG, workers=2, extra={"redis": self.redis.port, "replicas": n, "rate": rate}).start()
               for _ in range(n)]
        try:
            time.sleep(0.3)  # first syncs
            before = self.redis.commands()
            admitted = [0] * n
            sent = [0] * n
            end = time.time() + seconds

            def hammer(i):
                c = Client(gws[i].port)
                while time.time() < end and sent[i] < 20000:
                    st, _ = c.get("/fleet")
                    sent[i] += 1
                    admitted[i] += st == 200
                    self.assertIn(st, (200, 429))
                c.close()

            threads = [threading.Thread(target=hammer, args=(i,)) for i in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            total = sum(admitted)
            commands = self.redis.commands() - before
            # Over `seconds` the sliding window admits at most rate * (seconds + 1) (the
            # window in force at the start may be fresh), plus the documented overshoot.
            bound = rate * (seconds + 1) + (n - 1) * (1 + math.ceil(rate / n))
            print(f"\nglobal {rate}/s, {n} instances, {seconds}s: admitted {admitted} = {total} of {sum(sent)} sent; "
                  f"bound {bound:.0f}; redis commands {commands} ({commands / seconds:.0f}/s for "
                  f"{sum(sent) / seconds:.0f} requests/s)")
            self.assertLessEqual(total, bound)
            self.assertGreaterEqual(total, rate * (seconds - 1), "the fleet gets its limit")
            self.assertLess(total, n * rate * seconds * 0.6, "not one limit per instance")
            self.assertTrue(all(a > 0 for a in admitted), admitted)
            self.assertGreater(sum(sent), 4 * total, "the load exceeded the limit")
            # Redis load follows the sync interval (3 instances x 20 syncs/s x one EVAL for
            # the busy policy, or a PING), not the request rate.
            self.assertLess(commands, n * 20 * (seconds + 1))
            self.assertLess(commands, sum(sent) / 4)
            self.assertEqual(metric(gws[0].admin, "rampart_ratelimit_redis_up"), 1)
            self.assertTrue(self.redis.cli("--scan", "--pattern", "rampart:rl:fleet:*").strip())
        finally:
            for g in gws:
                g.stop()

    def test_redis_down_fails_open_or_closed_and_recovers(self):
        with Gateway(CONFIG, workers=2, extra={"redis": self.redis.port, "replicas": 2, "rate": 10}) as gw:
            c = Client(gw.port)
            time.sleep(0.3)
            self.assertEqual(c.get("/closed")[0], 200)
            self.redis.kill()
            time.sleep(0.2 + 2 * 0.05 + 0.2)  # 2 sync intervals + the timeout: the view is stale
            # Every request is answered promptly: nothing waits on Redis.
            statuses = {"open": [], "closed": []}
            slowest = 0.0
            end = time.time() + 2.0
            while time.time() < end:
                for route in ("open", "closed"):
                    t0 = time.time()
                    st, retry = c.get("/" + route)
                    slowest = max(slowest, time.time() - t0)
                    statuses[route].append(st)
            self.assertLess(slowest, 0.5)
            self.assertEqual(set(statuses["closed"]), {429}, "fail closed rejects")
            admitted_open = statuses["open"].count(200)
            # Fail open: a local limit of 10/s / 2 replicas = 5/s (burst 1) over 2 s.
            self.assertGreaterEqual(admitted_open, 8)
            self.assertLessEqual(admitted_open, 12)
            self.assertEqual(metric(gw.admin, "rampart_ratelimit_redis_up"), 0)
            self.assertGreater(metric(gw.admin, "rampart_ratelimit_redis_fallback_total", {"policy": "closed"}), 0)
            self.assertGreater(metric(gw.admin, "rampart_ratelimit_redis_syncs_total", {"result": "error"}), 0)
            # Redis returns on the same port: the limiter reconnects (backoff <= 5 s) and admits again.
            self.redis.start()
            deadline = time.time() + 10
            while time.time() < deadline and c.get("/closed")[0] != 200:
                time.sleep(0.1)
            self.assertEqual(metric(gw.admin, "rampart_ratelimit_redis_up"), 1)
            self.assertIn("global rate limits fall back", gw.output())
            c.close()

    def test_bad_configuration(self):
        d = tempfile.mkdtemp(prefix="rampart-redis-cfg-")
        path = os.path.join(d, "bad.yaml")
        base = ("listeners: [{ name: l, listen: 127.0.0.1:1 }]\n"
                "routes: [{ name: r, direct_response: { status: 200 } }]\n")
        for text, expect in (
                ("rate_limits: [{ name: g, rate: 5/s, scope: global }]\n", "needs a top-level redis section"),
                ("redis: { address: 127.0.0.1:6379 }\nrate_limits: [{ name: g, rate: 5/s, scope: global }]\n",
                 "redis needs replicas"),
                ("redis: { address: 127.0.0.1:6379, replicas: 2 }\n"
                 "rate_limits: [{ name: g, rate: 5/s, burst: 3, scope: global }]\n", "burst is for local"),
                ("redis: { address: nowhere, replicas: 2 }\n", "must be host:port"),
                ("redis: { address: 127.0.0.1:6379, replicas: 2 }\n"
                 "rate_limits: [{ name: g, rate: 5/s, scope: fleet }]\n", "scope must be local or global"),
                ("rate_limits: [{ name: g, rate: 5/s, on_redis_error: closed }]\n", "on_redis_error is for scope: global"),
                ("rate_limits: [{ name: g, rate: 5/s, strict: true }]\n", "strict is for scope: global")):
            with open(path, "w") as f:
                f.write(base + text)
            r = subprocess.run([RAMPART, "check", "-c", path], capture_output=True, text=True, timeout=30)
            with self.subTest(expect=expect):
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn(expect, r.stdout + r.stderr)
                self.assertIn(path + ":", r.stdout + r.stderr)

    def test_unreachable_redis_at_start_is_not_fatal(self):
        self.redis.kill()
        with Gateway(CONFIG, workers=1, extra={"redis": self.redis.port, "replicas": 2, "rate": 10}) as gw:
            time.sleep(0.6)
            c = Client(gw.port)
            self.assertEqual(c.get("/open")[0], 200, "fail open: the local share admits")
            self.assertEqual(c.get("/closed")[0], 429)
            self.assertIn("cannot connect", gw.output())
            c.close()


STRICT = """
redis:
  address: 127.0.0.1:{redis}
  replicas: 2
  sync_interval: 50ms
  timeout: 200ms
rate_limits:
  - {{ name: logins, key: [{{ header: X-Account }}], rate: 5/m, scope: global, strict: true }}
  - {{ name: s-open, key: [route], rate: 6/s, scope: global, strict: true, on_redis_error: open }}
  - {{ name: s-closed, key: [route], rate: 1000/s, scope: global, strict: true, on_redis_error: closed }}
listeners:
  - {{ name: main, listen: 127.0.0.1:{port} }}
routes:
  - {{ name: login, match: {{ path: {{ prefix: /login }} }}, rate_limits: [logins], direct_response: {{ status: 200, body: ok }} }}
  - {{ name: open, match: {{ path: {{ prefix: /open }} }}, rate_limits: [s-open], direct_response: {{ status: 200, body: ok }} }}
  - {{ name: closed, match: {{ path: {{ prefix: /closed }} }}, rate_limits: [s-closed], direct_response: {{ status: 200, body: ok }} }}
"""


def timed_get(port, path, headers=None):
    c = httpclient.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        t0 = time.time()
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        r.read()
        return r.status, time.time() - t0, {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()


class StrictLimitTest(unittest.TestCase):
    """strict: true: every request is checked and counted in Redis (one EVAL on the
    worker's io_context), so two instances admit exactly the limit; a dead or hung
    Redis costs a request at most the timeout, then the fail-open/closed rule."""

    def setUp(self):
        self.redis = Redis().start()

    def tearDown(self):
        if self.redis.proc:
            self.redis.proc.send_signal(signal.SIGCONT)
        self.redis.kill()

    def test_two_instances_admit_exactly_the_limit(self):
        gws = [Gateway(STRICT, workers=2, extra={"redis": self.redis.port}).start() for _ in range(2)]
        try:
            statuses = []
            for i in range(40):
                st, _, h = timed_get(gws[i % 2].port, "/login", {"X-Account": "alice"})
                statuses.append(st)
                if st == 429:
                    self.assertGreater(int(h["retry-after"]), 0)
            self.assertEqual(statuses.count(200), 5, statuses)
            self.assertEqual(statuses[:5], [200] * 5)
            # Another account has its own limit.
            self.assertEqual(timed_get(gws[1].port, "/login", {"X-Account": "bob"})[0], 200)
            evals = sum(int(line.split("calls=")[1].split(",")[0])
                        for line in self.redis.cli("INFO", "commandstats").splitlines()
                        if line.startswith("cmdstat_eval:"))
            self.assertGreaterEqual(evals, 41, "one EVAL per request")
            self.assertEqual(metric(gws[0].admin, "rampart_ratelimit_rejected_total", {"policy": "logins"}) +
                             metric(gws[1].admin, "rampart_ratelimit_rejected_total", {"policy": "logins"}), 35)
        finally:
            for g in gws:
                g.stop()

    def test_hung_or_dead_redis_costs_at_most_the_timeout(self):
        with Gateway(STRICT, workers=1, extra={"redis": self.redis.port}) as gw:
            self.assertEqual(timed_get(gw.port, "/closed")[0], 200)
            # Hung (SIGSTOP): the first request waits the 200 ms timeout, then fails closed;
            # the next ones do not wait (the connection is dropped and reconnects after a backoff).
            self.redis.proc.send_signal(signal.SIGSTOP)
            st, secs, _ = timed_get(gw.port, "/closed")
            self.assertEqual(st, 429)
            self.assertGreaterEqual(secs, 0.18)
            self.assertLess(secs, 0.6)
            slowest = 0.0
            opens = []
            end = time.time() + 1.5
            while time.time() < end:
                st, secs, _ = timed_get(gw.port, "/closed")
                self.assertEqual(st, 429)
                slowest = max(slowest, secs)
                st, secs, _ = timed_get(gw.port, "/open")
                opens.append(st)
                slowest = max(slowest, secs)
            self.assertLess(slowest, 0.6, "no request waits longer than the timeout")
            # Fail open: a local limit of 6/s / 2 replicas over ~1.5 s.
            self.assertGreaterEqual(opens.count(200), 3)
            self.assertLessEqual(opens.count(200), 8)
            self.assertGreater(metric(gw.admin, "rampart_ratelimit_redis_fallback_total", {"policy": "s-closed"}), 0)
            self.assertIn("strict rate limit", gw.output())
            # Back: answered from Redis again once the backoff has passed.
            self.redis.proc.send_signal(signal.SIGCONT)
            deadline = time.time() + 10
            st = 429
            while time.time() < deadline and st != 200:
                st = timed_get(gw.port, "/closed")[0]
                time.sleep(0.05)
            self.assertEqual(st, 200)
            # Dead: refused connections fail at once.
            self.redis.kill()
            st, secs, _ = timed_get(gw.port, "/closed")
            self.assertEqual(st, 429)
            self.assertLess(secs, 0.6)


if __name__ == "__main__":
    unittest.main()
