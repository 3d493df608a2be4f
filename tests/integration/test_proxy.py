"""Routing and proxying through the real binary."""

import socket
import threading
import time
import unittest

from harness import SANITIZED, Backend, Gateway, http, metric, raw, recv_until

CONFIG = """
listeners:
  - name: main
    listen: ["127.0.0.1:{port}"]
routes:
  - name: exact
    match: {{ path: {{ exact: "/exact" }} }}
    direct_response: {{ status: 200, body: "exact" }}
  - name: regex
    match: {{ path: {{ regex: "/items/[0-9]+" }} }}
    direct_response: {{ status: 200, body: "regex" }}
  - name: host-wild
    match: {{ hosts: ["*.example.com"], path: {{ prefix: "/" }} }}
    direct_response: {{ status: 200, body: "wildcard" }}
  - name: host-exact
    match: {{ hosts: ["api.test"], path: {{ prefix: "/" }} }}
    direct_response: {{ status: 200, body: "exact-host" }}
  - name: method
    match: {{ path: {{ prefix: "/m" }}, methods: [DELETE] }}
    direct_response: {{ status: 202, body: "deleted" }}
  - name: header
    match: {{ path: {{ prefix: "/h" }}, headers: [{{ name: X-Canary, exact: "1" }}] }}
    direct_response: {{ status: 200, body: "canary" }}
  - name: app
    match: {{ path: {{ prefix: "/app/" }} }}
    pool: app
    rewrite_prefix: "/v2/"
    request_headers: {{ add: {{ X-Env: test }}, remove: [X-Debug] }}
    response_headers: {{ add: {{ X-Frame-Options: DENY }}, remove: [Server] }}
  - name: rest
    match: {{ path: {{ prefix: "/" }} }}
    pool: app
pools:
  - name: app
    endpoints: [ {{ address: "{backend}" }} ]
"""


class ProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        def handler(req):
            if req["path"].startswith("/chunked"):
                return 200, {"Content-Type": "application/octet-stream"}, lambda: (b"x" * 65536 for _ in range(160))
            if req["path"].startswith("/fields/"):  # as many response fields as the path says
                n = int(req["path"].split("/")[2])
                return 200, {f"X-R-{i}": f"r{i}" for i in range(n)}, b"fields"
            if req["path"].startswith("/nocontent"):
                return 204, {}, b""
            if req["path"].startswith("/echo"):
                return 200, {"Content-Type": "application/octet-stream", "Server": "backend/1.0",
                             "Connection": "close, X-Hop", "X-Hop": "secret"}, req["body"]
            return 200, {"Content-Type": "text/plain", "Server": "backend/1.0"}, b"ok " + req["path"].encode()

        cls.backend = Backend(handler)
        cls.gw = Gateway(CONFIG, extra={"backend": cls.backend.address}).start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.backend.close()

    def last(self):
        return self.backend.requests[-1]

    def test_routes(self):
        p = self.gw.port
        self.assertEqual(http(p, "GET", "/exact")[2], b"exact")
        self.assertEqual(http(p, "GET", "/items/42")[2], b"regex")
        self.assertNotEqual(http(p, "GET", "/items/42x")[2], b"regex")  # regex is a full match
        self.assertEqual(http(p, "GET", "/", {"Host": "shop.example.com"})[2], b"wildcard")
        self.assertNotEqual(http(p, "GET", "/", {"Host": "example.com"})[2], b"wildcard")  # bare domain: no
        self.assertEqual(http(p, "GET", "/", {"Host": "API.test:8080"})[2], b"exact-host")  # case, port ignored
        self.assertEqual(http(p, "DELETE", "/m")[0], 202)
        self.assertNotEqual(http(p, "GET", "/m")[0], 202)
        self.assertEqual(http(p, "GET", "/h", {"X-Canary": "1"})[2], b"canary")
        self.assertNotEqual(http(p, "GET", "/h", {"X-Canary": "2"})[2], b"canary")

    def test_forwarded_headers_and_request_id(self):
        status, headers, body = http(self.gw.port, "GET", "/plain?q=1", {"X-Forwarded-For": "203.0.113.9"})
        self.assertEqual(status, 200)
        req = self.last()
        self.assertEqual(req["path"], "/plain?q=1")
        self.assertEqual(req["h"]["x-forwarded-for"], "203.0.113.9, 127.0.0.1")
        self.assertEqual(req["h"]["x-forwarded-proto"], "http")
        self.assertEqual(req["h"]["x-forwarded-host"], f"127.0.0.1:{self.gw.port}")
        self.assertEqual(req["h"]["via"], "1.1 rampart")
        rid = headers["x-request-id"]
        # The process's 8 hex digits, the worker's, then the sequence in at least 6.
        self.assertRegex(rid, r"^[0-9a-f]{15,}$")
        self.assertEqual(req["h"]["x-request-id"], rid)
        _, again, _ = http(self.gw.port, "GET", "/plain")
        self.assertRegex(again["x-request-id"], r"^[0-9a-f]{15,}$")
        self.assertNotEqual(again["x-request-id"], rid)
        self.assertEqual(again["x-request-id"][:8], rid[:8])
        # A sane client-supplied id is kept end to end.
        status, headers, _ = http(self.gw.port, "GET", "/plain", {"X-Request-Id": "abc-123"})
        self.assertEqual(headers["x-request-id"], "abc-123")
        self.assertEqual(self.last()["h"]["x-request-id"], "abc-123")

    def test_rewrite_and_header_ops(self):
        status, headers, body = http(self.gw.port, "GET", "/app/users?id=7", {"X-Debug": "1"})
        self.assertEqual(status, 200)
        req = self.last()
        self.assertEqual(req["path"], "/v2/users?id=7")
        self.assertEqual(req["h"]["x-env"], "test")
        self.assertNotIn("x-debug", req["h"])
        self.assertEqual(headers["x-frame-options"], "DENY")
        self.assertNotIn("server", headers)

    def test_hop_by_hop_removed_both_ways(self):
        status, headers, body = http(self.gw.port, "POST", "/echo", {"Connection": "X-Private", "X-Private": "1",
                                                                       "Keep-Alive": "timeout=5", "TE": "trailers"},
                                     body=b"hello")
        self.assertEqual(body, b"hello")
        req = self.last()
        for h in ("x-private", "keep-alive", "te"):
            self.assertNotIn(h, req["h"])
        self.assertNotIn("x-hop", headers)  # named in the backend's Connection header

    def test_no_content_and_head(self):
        self.assertEqual(http(self.gw.port, "GET", "/nocontent")[0], 204)
        status, headers, body = http(self.gw.port, "HEAD", "/plain")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(headers["content-length"], str(len(b"ok /plain")))

    def test_large_chunked_response_streams(self):
        # 10 MiB chunked from the backend arrives whole and in order.
        status, headers, body = http(self.gw.port, "GET", "/chunked", timeout=30)
        self.assertEqual(status, 200)
        self.assertEqual(len(body), 160 * 65536)

    def test_large_chunked_request_streams(self):
        # A chunked upload through the gateway arrives re-framed and intact.
        s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=30)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        total = 0
        for i in range(64):
            chunk = bytes([65 + i % 26]) * 32768
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            total += len(chunk)
        s.sendall(b"0\r\n\r\n")
        data = b""
        deadline = time.time() + 30
        while time.time() < deadline:
            b = s.recv(1 << 20)
            if not b:
                break
            data += b
        s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:100])
        self.assertEqual(len(self.last()["body"]), total)

    def test_64mib_upload_streams_with_bounded_memory(self):
        # A 64 MiB content-length body goes through while the gateway's RSS stays far below it.
        def rss_kib():
            with open(f"/proc/{self.gw.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
            return 0

        size = 64 << 20
        rss_before = rss_kib()
        s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=30)
        s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % size)
        block = b"z" * (1 << 20)
        peak = 0
        for i in range(64):
            s.sendall(block)
            if i % 8 == 0:
                peak = max(peak, rss_kib())
        data = b""
        deadline = time.time() + 30
        while time.time() < deadline:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:100])
        self.assertEqual(len(self.last()["body"]), size)
        if not SANITIZED:  # the sanitizers' allocators make RSS mean nothing
            self.assertLess(peak - rss_before, 16 * 1024, f"RSS grew by {peak - rss_before} KiB")

    def test_pipelining_in_order(self):
        reqs = b"".join(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(5))
        reqs += b"GET /exact HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        data, closed = raw(self.gw.port, reqs, timeout=5)
        self.assertTrue(closed)
        bodies = [b"ok /p%d" % i for i in range(5)]
        pos = 0
        for b in bodies:
            i = data.find(b, pos)
            self.assertGreater(i, -1, f"{b} missing or out of order")
            pos = i
        self.assertEqual(data.count(b"HTTP/1.1 200"), 6)

    def test_keepalive_requests_carry_only_their_own_fields(self):
        # One client connection, requests and responses of many fields and of
        # few by turns, one head over 16 KiB: the connection keeps the buffers
        # the heads are parsed and built in from one request to the next, never
        # what was in them.
        s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=5)
        try:
            for k, big in ((40, False), (2, False), (3, True), (0, False), (60, False), (1, False)):
                fields = "".join(f"X-Q-{i}: q{i}\r\n" for i in range(k))
                if big:
                    fields += "X-Big-1: " + "a" * 9000 + "\r\nX-Big-2: " + "b" * 9000 + "\r\n"
                s.sendall(f"GET /fields/{k} HTTP/1.1\r\nHost: x\r\n{fields}\r\n".encode())
                data = recv_until(s, b"\r\n\r\n")
                head, _, rest = data.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                self.assertTrue(lines[0].startswith("HTTP/1.1 200"), lines[0])
                got = {n.strip().lower(): v.strip() for n, v in (line.split(":", 1) for line in lines[1:])}
                while len(rest) < int(got["content-length"]):
                    rest += s.recv(4096)
                self.assertEqual(rest, b"fields")
                self.assertEqual(sorted(n for n in got if n.startswith("x-r-")), sorted(f"x-r-{i}" for i in range(k)))
                self.assertTrue(all(got[f"x-r-{i}"] == f"r{i}" for i in range(k)))
                req = self.last()
                self.assertEqual(req["path"], f"/fields/{k}")
                sent = {n.lower(): v for n, v in req["headers"] if n.lower().startswith(("x-q-", "x-big-"))}
                want = {f"x-q-{i}": f"q{i}" for i in range(k)}
                if big:
                    want.update({"x-big-1": "a" * 9000, "x-big-2": "b" * 9000})
                self.assertEqual(sent, want)
        finally:
            s.close()

    def test_keepalive_reuses_upstream_connection(self):
        before = self.backend.connections
        for i in range(20):
            self.assertEqual(http(self.gw.port, "GET", f"/k{i}")[0], 200)
        # 20 requests over new client connections, few upstream connections (one idle cache per worker).
        self.assertLessEqual(self.backend.connections - before, 4)

    def test_expect_continue(self):
        s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=5)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        first = s.recv(100)
        self.assertTrue(first.startswith(b"HTTP/1.1 100 Continue"), first)
        s.sendall(b"hello")
        data = recv_until(s, b"hello")
        s.close()
        self.assertIn(b"200", data)
        self.assertNotIn("expect", self.last()["h"])

    def test_websocket_upgrade_relayed(self):
        # The backend answers 101 and then echoes bytes; the gateway relays both ways.
        ws = socket.socket()
        ws.bind(("127.0.0.1", 0))
        ws.listen(1)
        port = ws.getsockname()[1]

        def serve():
            c, _ = ws.accept()
            c.settimeout(5)
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += c.recv(4096)
            c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            while True:
                d = c.recv(4096)
                if not d:
                    break
                c.sendall(d.upper())
            c.close()

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        gw = Gateway("""
listeners: [ {{ name: main, listen: ["127.0.0.1:{port}"] }} ]
routes: [ {{ name: ws, match: {{ path: {{ prefix: "/" }} }}, pool: ws }} ]
pools: [ {{ name: ws, endpoints: [ {{ address: "127.0.0.1:{wsport}" }} ] }} ]
""", extra={"wsport": port}).start()
        try:
            s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
            s.sendall(b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                head += s.recv(4096)
            self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
            s.sendall(b"ping frame")
            got = b""
            deadline = time.time() + 5
            while len(got) < 10 and time.time() < deadline:
                got += s.recv(4096)
            self.assertEqual(got, b"PING FRAME")
            s.close()
        finally:
            gw.stop()
            ws.close()

    def test_no_route_is_404_with_request_id(self):
        gw = Gateway("""
listeners: [ {{ name: main, listen: ["127.0.0.1:{port}"] }} ]
routes: [ {{ name: only, match: {{ path: {{ exact: "/only" }} }}, direct_response: {{ status: 200 }} }} ]
""").start()
        try:
            status, headers, body = http(gw.port, "GET", "/other")
            self.assertEqual(status, 404)
            self.assertIn(headers["x-request-id"].encode(), body)
            self.assertEqual(http(gw.port, "GET", "/only")[0], 200)
            # Counted under "(none)", the routed one under its route.
            self.assertEqual(metric(gw.admin, "rampart_requests_total", {"route": "(none)", "class": "4xx"}), 1)
            self.assertEqual(metric(gw.admin, "rampart_requests_total", {"route": "only", "class": "2xx"}), 1)
        finally:
            gw.stop()


class IdleUpstreamTest(unittest.TestCase):
    """An idle kept-alive upstream connection that the backend closed, or wrote
    to, while it waited in the worker's cache is not used again: a POST (which
    is not retried on a fresh connection once its body went) still gets its 200."""

    def serve(self, after_response):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(16)
        self.addCleanup(srv.close)
        self.accepted = 0

        def handle(c):
            with c:
                c.settimeout(5)
                buf = recv_until(c, b"\r\n\r\n")
                if b"\r\n\r\n" not in buf:
                    return
                head, _, body = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(body) < length:
                    body += c.recv(4096)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                time.sleep(0.1)
                after_response(c)
                time.sleep(1)

        def accept():
            while True:
                try:
                    c, _ = srv.accept()
                except OSError:
                    return
                self.accepted += 1
                threading.Thread(target=handle, args=(c,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return srv.getsockname()[1]

    def check(self, after_response):
        port = self.serve(after_response)
        gw = Gateway("""
listeners: [ {{ name: main, listen: ["127.0.0.1:{port}"] }} ]
routes: [ {{ name: app, pool: app }} ]
pools: [ {{ name: app, endpoints: [ {{ address: "127.0.0.1:%d" }} ] }} ]
""" % port, workers=1).start()
        try:
            self.assertEqual(http(gw.port, "POST", "/a", body=b"one")[0], 200)
            time.sleep(0.4)  # the backend has closed (or written to) the idle connection
            self.assertEqual(http(gw.port, "POST", "/b", body=b"two")[:3:2], (200, b"ok"))
            self.assertEqual(self.accepted, 2)
        finally:
            gw.stop()

    def test_closed_by_the_backend(self):
        self.check(lambda c: c.shutdown(socket.SHUT_WR))

    def test_written_to_by_the_backend(self):
        self.check(lambda c: c.sendall(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"))


if __name__ == "__main__":
    unittest.main()

