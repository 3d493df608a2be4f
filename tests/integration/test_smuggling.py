"""Request smuggling and limits through the real binary: each malformed
request gets its status and the connection is closed; nothing reaches the
backend."""

import unittest

from harness import Backend, Gateway, raw

CONFIG = """
listeners:
  - name: main
    listen: ["127.0.0.1:{port}"]
    limits: {{ max_request_line: 1KiB, max_header_bytes: 4KiB, max_headers: 20, max_body: 1KiB }}
routes:
  - name: all
    match: {{ path: {{ prefix: "/" }} }}
    pool: app
pools:
  - name: app
    endpoints: [ {{ address: "{backend}" }} ]
"""

H = b"Host: x\r\n"

# (name, raw request, expected status)
CASES = [
    ("cl_and_te", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_and_cl", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
    ("two_cl_differ", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
    ("cl_list_differ", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5, 6\r\n\r\nhello!", 400),
    ("cl_plus", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: +5\r\n\r\nhello", 400),
    ("cl_hex", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0x5\r\n\r\nhello", 400),
    ("cl_negative", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n", 400),
    ("cl_overflow", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 99999999999999999999999\r\n\r\n", 400),
    ("te_identity_chunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
    ("te_xchunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501),
    ("te_space_before_colon", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_in_http10", b"POST / HTTP/1.0\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_twice", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("obs_fold", b"GET / HTTP/1.1\r\n" + H + b"X-A: 1\r\n  folded\r\n\r\n", 400),
    ("nul_in_value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400),
    ("bare_cr", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n", 400),
    ("bare_lf_line", b"GET / HTTP/1.1\n" + H + b"\r\n", 400),
    ("no_host_11", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two_hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("bad_method", b"G(ET / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("bad_version", b"GET / HTTP/1.x\r\n" + H + b"\r\n", 400),
    ("http2_version", b"GET / HTTP/2.0\r\n" + H + b"\r\n", 505),
    ("space_in_target", b"GET /a b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("bad_chunk_size", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk_size_0x", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
    ("long_uri", b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\n" + H + b"\r\n", 414),
    ("huge_header", b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"b" * 5000 + b"\r\n\r\n", 431),
    ("too_many_headers", b"GET / HTTP/1.1\r\n" + H + b"".join(b"X-%d: 1\r\n" % i for i in range(30)) + b"\r\n", 431),
    ("body_over_limit", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5000\r\n\r\n", 413),
]


class SmugglingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.backend = Backend()
        cls.gw = Gateway(CONFIG, extra={"backend": cls.backend.address}).start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.backend.close()

    def test_each_case_rejected_and_closed(self):
        for name, req, status in CASES:
            with self.subTest(case=name):
                before = self.backend.count()
                data, closed = raw(self.gw.port, req, timeout=3)
                line = data.split(b"\r\n", 1)[0]
                self.assertEqual(line[:12], b"HTTP/1.1 %d" % status, f"{name}: got {line!r}")
                self.assertTrue(closed, f"{name}: connection left open")
                self.assertIn(b"Connection: close", data)
                self.assertEqual(self.backend.count(), before, f"{name}: reached the backend")

    def test_smuggled_second_request_never_forwarded(self):
        # CL.TE: a front end trusting Content-Length would forward "GET /admin" as a second request.
        req = (b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n")
        before = self.backend.count()
        data, closed = raw(self.gw.port, req)
        self.assertTrue(closed)
        self.assertEqual(self.backend.count(), before)
        self.assertEqual(data.count(b"HTTP/1.1"), 1)

    def test_valid_requests_still_pass(self):
        ok = b"POST /x HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nConnection: close\r\n\r\nhello"
        data, _ = raw(self.gw.port, ok)
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:80])
        chunked = (b"POST /x HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                   b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n")
        data, _ = raw(self.gw.port, chunked)
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:80])
        self.assertEqual(self.backend.requests[-1]["body"], b"hello")

    def test_head_dripped_byte_by_byte(self):
        import socket
        import time
        s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=5)
        for b in b"GET /drip HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nConnection: close\r\n\r\n":
            s.sendall(bytes([b]))
            time.sleep(0.002)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:80])
        self.assertEqual(self.backend.requests[-1]["path"], "/drip")

    def test_slow_header_gets_408(self):
        gw = Gateway("""
timeouts: {{ client_header: 500ms }}
listeners: [ {{ name: main, listen: ["127.0.0.1:{port}"] }} ]
routes: [ {{ name: d, match: {{ path: {{ prefix: "/" }} }}, direct_response: {{ status: 200 }} }} ]
""").start()
        try:
            data, closed = raw(gw.port, b"GET / HTTP/1.1\r\nHost: x\r\n", timeout=3)
            self.assertTrue(data.startswith(b"HTTP/1.1 408"), data[:80])
            self.assertTrue(closed)
        finally:
            gw.stop()


if __name__ == "__main__":
    unittest.main()
