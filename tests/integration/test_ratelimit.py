"""Local rate limits through the real binary: exact per-instance accounting across
workers, burst, 429 with Retry-After and the RateLimit headers, keys by client
address (IPv6 aggregated by prefix), header and route, trusted proxies, exemptions,
a unique-key flood bounded by max_keys, bad configuration."""

import threading
import time
import unittest

from harness import SANITIZED, Backend, Gateway, check_config, metric

CONFIG = """
trusted_proxies: ["127.0.0.2/32"]
rate_limits:
  - {{ name: per-ip, key: [client_ip], rate: 50/s, burst: 1 }}
  - {{ name: burst, key: [client_ip], rate: 1/m, burst: 5 }}
  - {{ name: per-key, key: [{{ header: X-Api-Key }}], rate: 2/m, burst: 2 }}
  - name: v6
    key: [{{ client_ip: {{ ipv6_prefix: 64 }} }}]
    rate: 1/m
    burst: 1
  - {{ name: exempted, key: [client_ip], rate: 1/m, burst: 1, exempt: ["127.0.0.0/8"] }}
  - {{ name: flood, key: [{{ header: X-Id }}], rate: 1/m, burst: 1, max_keys: 1024 }}
  - {{ name: delayed, key: [client_ip], rate: 10/s, burst: 1, delay: {{ max_queued: 5, max_delay: 2s }} }}
listeners:
  - name: main
    listen: ["127.0.0.1:{port}", "127.0.0.2:{port}"]
pools:
  - name: app
    endpoints: ["{backend}"]
routes:
  - {{ name: rate, match: {{ path: {{ prefix: "/rate" }} }}, pool: app, rate_limits: [per-ip] }}
  - {{ name: burst, match: {{ path: {{ prefix: "/burst" }} }}, pool: app, rate_limits: [burst] }}
  - {{ name: key, match: {{ path: {{ prefix: "/key" }} }}, pool: app, rate_limits: [per-key] }}
  - {{ name: v6, match: {{ path: {{ prefix: "/v6" }} }}, pool: app, rate_limits: [v6] }}
  - {{ name: exempt, match: {{ path: {{ prefix: "/exempt" }} }}, pool: app, rate_limits: [exempted] }}
  - {{ name: flood, match: {{ path: {{ prefix: "/flood" }} }}, pool: app, rate_limits: [flood] }}
  - {{ name: delayed, match: {{ path: {{ prefix: "/delayed" }} }}, pool: app, rate_limits: [delayed] }}
  - {{ name: app, pool: app }}
"""


def get(port, path, headers=None, source="127.0.0.1"):
    import http.client as hc
    c = hc.HTTPConnection("127.0.0.1" if source == "127.0.0.1" else source, port, timeout=5,
                          source_address=(source, 0))
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class RateLimitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.backend = Backend()
        cls.gw = Gateway(CONFIG, workers=4, extra={"backend": cls.backend.address}).start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.backend.close()

    def test_rate_is_exact_across_workers(self):
        # 4 workers, 4 client threads on keep-alive connections, 3 s: GCRA admits burst + rate x time.
        import http.client as hc
        counts = {"ok": 0, "limited": 0}
        lock = threading.Lock()
        start = time.time()
        duration = 3.0

        def client():
            c = hc.HTTPConnection("127.0.0.1", self.gw.port, timeout=5)
            ok = limited = 0
            n = 0
            while time.time() - start < duration and n < 100000:
                n += 1
                c.request("GET", "/rate/x")
                r = c.getresponse()
                r.read()
                if r.status == 200:
                    ok += 1
                elif r.status == 429:
                    limited += 1
                if r.getheader("Connection") == "close":
                    c.close()
                    c = hc.HTTPConnection("127.0.0.1", self.gw.port, timeout=5)
            c.close()
            with lock:
                counts["ok"] += ok
                counts["limited"] += limited

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - start
        expected = 1 + 50 * elapsed
        print(f"\nrate 50/s, 4 workers, {elapsed:.2f}s: admitted {counts['ok']} (expected {expected:.1f}), 429: {counts['limited']}")
        self.assertGreater(counts["limited"], 100, counts)
        self.assertLess(abs(counts["ok"] - expected), 0.02 * expected + 3,
                        f"admitted {counts['ok']} in {elapsed:.2f}s, expected {expected:.0f} (50/s + burst 1)")
        self.assertGreaterEqual(metric(self.gw.admin, "rampart_ratelimit_rejected_total", {"policy": "per-ip"}),
                                counts["limited"])

    def test_burst_and_headers(self):
        statuses = [get(self.gw.port, "/burst") for _ in range(7)]
        self.assertEqual([s for s, _, _ in statuses], [200] * 5 + [429] * 2)
        # Admitted responses carry the policy and what is left of it.
        self.assertEqual(statuses[0][1]["ratelimit-policy"], '"burst";q=1;w=60')
        self.assertRegex(statuses[0][1]["ratelimit"], r'^"burst";r=4;t=\d+$')
        self.assertRegex(statuses[4][1]["ratelimit"], r'^"burst";r=0;t=\d+$')
        st, h, body = statuses[-1]
        self.assertIn("retry-after", h)
        self.assertGreaterEqual(int(h["retry-after"]), 1)
        self.assertLessEqual(int(h["retry-after"]), 60)
        self.assertEqual(h["ratelimit-policy"], '"burst";q=1;w=60')
        self.assertRegex(h["ratelimit"], r'^"burst";r=0;t=\d+$')
        self.assertIn(b"request id: " + h["x-request-id"].encode(), body)

    def test_header_key_and_missing_key(self):
        self.assertEqual([get(self.gw.port, "/key", {"X-Api-Key": "a"})[0] for _ in range(3)], [200, 200, 429])
        self.assertEqual(get(self.gw.port, "/key", {"X-Api-Key": "b"})[0], 200, "another key has its own budget")
        self.assertEqual([get(self.gw.port, "/key")[0] for _ in range(4)], [200] * 4, "no key: not counted")

    def test_trusted_proxy_xff_and_untrusted_xff(self):
        # From the trusted proxy (127.0.0.2), X-Forwarded-For names the client; the IPv6 /64 is one key.
        h1 = {"X-Forwarded-For": "2001:db8:1:2::1"}
        h2 = {"X-Forwarded-For": "2001:db8:1:2::ffff"}
        h3 = {"X-Forwarded-For": "2001:db8:1:3::1"}
        self.assertEqual(get(self.gw.port, "/v6", h1, source="127.0.0.2")[0], 200)
        self.assertEqual(get(self.gw.port, "/v6", h2, source="127.0.0.2")[0], 429, "same /64")
        self.assertEqual(get(self.gw.port, "/v6", h3, source="127.0.0.2")[0], 200, "another /64")
        # From an untrusted peer the header is ignored: the peer is the key (and it is spent after one).
        self.assertEqual(get(self.gw.port, "/v6", {"X-Forwarded-For": "198.51.100.1"})[0], 200)
        self.assertEqual(get(self.gw.port, "/v6", {"X-Forwarded-For": "198.51.100.2"})[0], 429)

    def test_delay_queues_instead_of_rejecting(self):
        # 10/s, burst 1, up to 5 waiting: of 8 simultaneous requests one passes at once, five wait
        # 100..500 ms, two are rejected.
        results = []
        lock = threading.Lock()

        def one():
            t0 = time.time()
            st = get(self.gw.port, "/delayed")[0]
            with lock:
                results.append((st, time.time() - t0))

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ok = sorted(d for st, d in results if st == 200)
        self.assertEqual(len(ok), 6, results)
        self.assertEqual(sum(1 for st, _ in results if st == 429), 2, results)
        self.assertGreater(ok[-1], 0.4, "the last admitted waited about 500 ms")
        self.assertLess(ok[-1], 3.0)
        self.assertGreaterEqual(metric(self.gw.admin, "rampart_ratelimit_delayed_total"), 5)

    def test_exemption(self):
        self.assertEqual([get(self.gw.port, "/exempt")[0] for _ in range(3)], [200] * 3)

    def test_unique_key_flood_is_bounded(self):
        import http.client as hc
        before = rss_kib(self.gw.proc.pid)
        c = hc.HTTPConnection("127.0.0.1", self.gw.port, timeout=5)
        for i in range(6000):
            c.request("GET", "/flood", headers={"X-Id": f"k{i:08d}" + "x" * 100})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
        c.close()
        self.assertLessEqual(metric(self.gw.admin, "rampart_ratelimit_keys", {"policy": "flood"}), 1024)
        self.assertGreaterEqual(metric(self.gw.admin, "rampart_ratelimit_evictions_total", {"policy": "flood"}),
                                6000 - 1024)
        if not SANITIZED:  # ASan's shadow memory and quarantine make RSS mean nothing
            self.assertLess(rss_kib(self.gw.proc.pid) - before, 8 * 1024)


class ProxyProtocolTest(unittest.TestCase):
    def test_v1_v2_client_address_tls_and_untrusted(self):
        import socket
        import ssl
        import struct
        from harness import free_port
        b = Backend()
        tls_port, untrusted_port = free_port(), free_port()
        cfg = """
rate_limits:
  - {{ name: one, key: [client_ip], rate: 1/m, burst: 1 }}
listeners:
  - {{ name: lb, listen: 127.0.0.1:{port}, proxy_protocol: {{ trusted: ["127.0.0.0/8"] }}, rate_limits: [one] }}
  - {{ name: lbtls, listen: 127.0.0.1:{tls_port}, proxy_protocol: {{ trusted: ["127.0.0.1"] }}, tls: self_signed }}
  - {{ name: strict, listen: 127.0.0.1:{untrusted_port}, proxy_protocol: {{ trusted: ["10.0.0.0/8"] }} }}
pools:
  - {{ name: app, endpoints: ["{backend}"] }}
routes:
  - {{ name: app, pool: app }}
"""
        try:
            with Gateway(cfg, workers=2, extra={"backend": b.address, "tls_port": tls_port,
                                                "untrusted_port": untrusted_port}) as gw:
                def send(port, header, req=b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
                    s = socket.create_connection(("127.0.0.1", port), timeout=5)
                    s.sendall(header + req)
                    data = b""
                    while True:
                        try:
                            chunk = s.recv(65536)
                        except ConnectionResetError:
                            break
                        if not chunk:
                            break
                        data += chunk
                    s.close()
                    return data

                data = send(gw.port, b"PROXY TCP4 203.0.113.9 10.0.0.1 5555 80\r\n")
                self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:100])
                xff = [v for k, v in b.requests[-1]["headers"] if k.lower() == "x-forwarded-for"]
                self.assertEqual(xff, ["203.0.113.9"])
                # The limit keys on the real client: the same address again is over its 1/m.
                self.assertTrue(send(gw.port, b"PROXY TCP4 203.0.113.9 10.0.0.1 5556 80\r\n").startswith(b"HTTP/1.1 429"))
                # v2, IPv6 source.
                src = socket.inet_pton(socket.AF_INET6, "2001:db8::7")
                dst = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
                body = src + dst + struct.pack("!HH", 4444, 443)
                v2 = b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x21]) + struct.pack("!H", len(body)) + body
                self.assertTrue(send(gw.port, v2).startswith(b"HTTP/1.1 200"))
                self.assertEqual([v for k, v in b.requests[-1]["headers"] if k.lower() == "x-forwarded-for"],
                                 ["2001:db8::7"])
                # No header, or a bad one, on a PROXY listener: closed without an answer.
                self.assertEqual(send(gw.port, b""), b"")
                self.assertEqual(send(gw.port, b"PROXY TCP4 nonsense\r\n"), b"")
                # A sender outside `trusted` is closed.
                self.assertEqual(send(untrusted_port, b"PROXY TCP4 203.0.113.9 10.0.0.1 5555 80\r\n"), b"")
                # PROXY then TLS on the same connection.
                raw = socket.create_connection(("127.0.0.1", tls_port), timeout=5)
                raw.sendall(b"PROXY TCP4 198.51.100.4 10.0.0.1 7777 443\r\n")
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                t = ctx.wrap_socket(raw, server_hostname="localhost")
                t.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = t.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:100])
                self.assertEqual([v for k, v in b.requests[-1]["headers"] if k.lower() == "x-forwarded-for"],
                                 ["198.51.100.4"])
        finally:
            b.close()


class RateLimitConfigTest(unittest.TestCase):
    def check(self, text):
        return check_config(text)[:2]

    BASE = "listeners: [{ name: m, listen: 127.0.0.1:1 }]\nroutes: [{ name: r, direct_response: { status: 200 } }]\n"

    def test_errors_name_the_line(self):
        for bad, msg in [("rate: 0/s", "rate must be"), ("rate: 5/s, burst: 0", "between 1"),
                         ("rate: 5/s, key: [mac_address]", "unknown rate limit key"),
                         ("rate: fast", "rate must be")]:
            rc, out = self.check(self.BASE + "rate_limits:\n  - { name: x, " + bad + " }\n")
            self.assertEqual(rc, 1, out)
            self.assertIn(":4:", out)
            self.assertIn(msg, out)
        rc, out = self.check(self.BASE.replace("direct_response", "rate_limits: [nope], direct_response"))
        self.assertEqual(rc, 1)
        self.assertIn("unknown rate limit 'nope'", out)


if __name__ == "__main__":
    unittest.main()
