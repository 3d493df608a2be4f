"""TLS termination through the real binary with real handshakes (Python's ssl and
`openssl s_client`): TLS 1.3 only by default, 1.2 when configured, SNI and key-type
certificate selection, wildcard and default certificates, ALPN, session resumption
across workers, X-Forwarded-Proto, certificate reload (and a bad one refused while
the old stays), key permission checks, self-signed fallback, metrics."""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import RAMPART, Backend, Gateway, http, metric


def openssl(*args, **kw):
    return subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30, **kw)


def make_cert(d, name, kind, sans, days=30):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    keyargs = ["-newkey", "rsa:2048"] if kind == "rsa" else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    r = openssl("req", "-x509", *keyargs, "-nodes", "-keyout", key, "-out", crt, "-days", str(days),
                "-subj", "/CN=" + sans[0], "-addext", "subjectAltName=" + ",".join("DNS:" + s for s in sans))
    assert r.returncode == 0, r.stderr
    os.chmod(key, 0o600)
    return crt, key


def s_client(port, *args, data=b"", timeout=10):
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args], input=data,
                       capture_output=True, timeout=timeout)
    return r.stdout.decode("utf-8", "replace") + r.stderr.decode("utf-8", "replace")


def peer_cert_text(port, server_name, *args):
    out = s_client(port, "-servername", server_name, *args, "-showcerts")
    pem = out[out.find("-----BEGIN CERTIFICATE-----"):out.find("-----END CERTIFICATE-----") + 25]
    return openssl("x509", "-noout", "-text", input=pem).stdout


CONFIG = """
listeners:
  - name: tls13
    listen: 127.0.0.1:{port}
    tls:
      certificates:
        - {{ cert: "{rsa_crt}", key: "{rsa_key}" }}
        - {{ cert: "{ec_crt}", key: "{ec_key}" }}
        - {{ cert: "{wild_crt}", key: "{wild_key}" }}
  - name: tls12
    listen: 127.0.0.1:{port12}
    tls:
      min_version: "1.2"
      profile: intermediate
      certificates:
        - {{ cert: "{ec_crt}", key: "{ec_key}" }}
pools:
  - name: app
    endpoints: ["{backend}"]
routes:
  - name: app
    pool: app
"""


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="rampart-tls-")
        d = cls.dir
        cls.rsa = make_cert(d, "a-rsa", "rsa", ["a.test"])
        cls.ec = make_cert(d, "a-ec", "ec", ["a.test"])
        cls.wild = make_cert(d, "wild", "ec", ["*.wild.test"])
        cls.backend = Backend()
        from harness import free_port
        cls.port12 = free_port()
        cls.gw = Gateway(CONFIG, workers=2, extra={
            "backend": cls.backend.address, "port12": cls.port12,
            "rsa_crt": cls.rsa[0], "rsa_key": cls.rsa[1], "ec_crt": cls.ec[0], "ec_key": cls.ec[1],
            "wild_crt": cls.wild[0], "wild_key": cls.wild[1]}).start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.backend.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def client_ctx(self, minimum=ssl.TLSVersion.TLSv1_2, maximum=ssl.TLSVersion.TLSv1_3):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = minimum
        ctx.maximum_version = maximum
        return ctx

    def request(self, port, ctx, host="a.test", path="/", session=None):
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        s = ctx.wrap_socket(raw, server_hostname=host, session=session)
        version, reused, alpn = s.version(), s.session_reused, s.selected_alpn_protocol()
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        info = (version, s.session, reused, alpn)  # (the ticket arrives after the handshake: session last)
        s.close()
        return data, info

    def test_tls13_and_proxying(self):
        ctx = self.client_ctx()
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        data, (version, _, _, alpn) = self.request(self.gw.port, ctx, path="/hello")
        self.assertEqual(version, "TLSv1.3")
        self.assertEqual(alpn, "http/1.1")
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:100])
        hdrs = dict((k.lower(), v) for k, v in self.backend.requests[-1]["headers"])
        self.assertEqual(hdrs["x-forwarded-proto"], "https")
        self.assertGreaterEqual(metric(self.gw.admin, "rampart_tls_handshakes_total"), 1)

    def test_old_versions_refused(self):
        with self.assertRaises(ssl.SSLError):
            self.request(self.gw.port, self.client_ctx(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2))
        out = s_client(self.gw.port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
        self.assertNotIn("Cipher is ECDHE", out)
        self.assertIn("Cipher is (NONE)", out)
        # The 1.2 listener negotiates TLS 1.2 with a 1.2-only client, and 1.3 with a modern one.
        _, (v12, _, _, _) = self.request(self.port12, self.client_ctx(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2))
        self.assertEqual(v12, "TLSv1.2")
        _, (v13, _, _, _) = self.request(self.port12, self.client_ctx())
        self.assertEqual(v13, "TLSv1.3")
        self.assertIn("Cipher is (NONE)", s_client(self.port12, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"))
        self.assertGreaterEqual(metric(self.gw.admin, "rampart_tls_handshake_failures_total"), 2)
        self.assertGreaterEqual(metric(self.gw.admin, "rampart_tls_handshake_failures_by_reason_total",
                                       {"reason": "protocol_version"}), 2)

    def test_plain_http_on_a_tls_port_is_counted_by_reason(self):
        before = metric(self.gw.admin, "rampart_tls_handshake_failures_by_reason_total", {"reason": "http_on_tls_port"})
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
            try:
                s.recv(100)
            except OSError:
                pass
        deadline = time.time() + 5
        while time.time() < deadline and metric(self.gw.admin, "rampart_tls_handshake_failures_by_reason_total",
                                                {"reason": "http_on_tls_port"}) == before:
            time.sleep(0.05)
        self.assertEqual(metric(self.gw.admin, "rampart_tls_handshake_failures_by_reason_total",
                                {"reason": "http_on_tls_port"}), before + 1)

    def test_certificate_selection(self):
        ec = peer_cert_text(self.gw.port, "a.test", "-sigalgs", "ECDSA+SHA256")
        self.assertIn("id-ecPublicKey", ec)
        self.assertIn("DNS:a.test", ec)
        rsa = peer_cert_text(self.gw.port, "a.test", "-sigalgs", "RSA-PSS+SHA256")
        self.assertIn("rsaEncryption", rsa)
        wild = peer_cert_text(self.gw.port, "x.wild.test")
        self.assertIn("DNS:*.wild.test", wild)
        default = peer_cert_text(self.gw.port, "unknown.example")
        self.assertIn("DNS:a.test", default)

    def test_resumption_across_workers(self):
        ctx = self.client_ctx()
        _, (_, session, reused, _) = self.request(self.gw.port, ctx)
        self.assertFalse(reused)
        self.assertIsNotNone(session)
        reused_count = 0
        for _ in range(6):  # new connections land on either worker (SO_REUSEPORT)
            _, (_, _, reused, _) = self.request(self.gw.port, ctx, session=session)
            reused_count += bool(reused)
        self.assertEqual(reused_count, 6)
        self.assertGreaterEqual(metric(self.gw.admin, "rampart_tls_resumed_total"), 6)

    def test_chained_resumption_and_close_notify(self):
        # Each connection resumes with the ticket of the one before: a resumed
        # handshake must issue a fresh ticket, and the close must carry a
        # close_notify (OpenSSL clients drop the session of a connection that
        # ends without one; with ragged EOFs not suppressed, recv() would raise).
        ctx = self.client_ctx()
        ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)

        def request(session):
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.gw.port), timeout=5),
                                server_hostname="a.test", session=session, suppress_ragged_eofs=False)
            s.sendall(b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):  # SSLEOFError without a close_notify
                data += chunk
            self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:80])
            reused, session = s.session_reused, s.session
            s.close()
            return reused, session

        reused, session = request(None)
        self.assertFalse(reused)
        chain, ids = [], {session.id}
        for _ in range(5):
            reused, session = request(session)
            chain.append(reused)
            ids.add(session.id)
        self.assertEqual(chain, [True] * 5)
        self.assertEqual(len(ids), 6, "a new ticket after every resumption")


def make_ca_and_client(d):
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    assert openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key,
                   "-out", ca_crt, "-days", "3", "-subj", "/CN=Test CA",
                   "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign").returncode == 0
    key, csr, crt = os.path.join(d, "alice.key"), os.path.join(d, "alice.csr"), os.path.join(d, "alice.crt")
    assert openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                   "-subj", "/O=Example/CN=alice").returncode == 0
    assert openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
                   "-days", "3").returncode == 0
    return ca_crt, crt, key


class MtlsTest(unittest.TestCase):
    def test_required_and_optional_client_certificates(self):
        d = tempfile.mkdtemp(prefix="rampart-mtls-")
        crt, key = make_cert(d, "srv", "ec", ["a.test"])
        ca, client_crt, client_key = make_ca_and_client(d)
        rogue_crt, rogue_key = make_cert(d, "rogue", "ec", ["alice"])  # self-signed: not from the CA
        from harness import free_port
        port2 = free_port()
        cfg = """
listeners:
  - name: required
    listen: 127.0.0.1:{port}
    tls:
      certificates: [{{ cert: "{crt}", key: "{key}" }}]
      client_certificates: {{ mode: required, ca: "{ca}", headers: {{ subject: X-Client-Subject, fingerprint: X-Client-Sha256 }} }}
  - name: optional
    listen: 127.0.0.1:{port2}
    tls:
      certificates: [{{ cert: "{crt}", key: "{key}" }}]
      client_certificates: {{ mode: optional, ca: "{ca}", headers: {{ subject: X-Client-Subject }} }}
pools:
  - {{ name: app, endpoints: ["{backend}"] }}
routes:
  - {{ name: app, pool: app }}
"""
        b = Backend()
        try:
            with Gateway(cfg, workers=2, extra={"crt": crt, "key": key, "ca": ca, "backend": b.address,
                                                "port2": port2}) as gw:
                def get(port, cert=None, extra=b""):
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                    if cert:
                        ctx.load_cert_chain(*cert)
                    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="a.test")
                    s.sendall(b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n" + extra + b"\r\n")
                    data = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    s.close()
                    return data

                # Required: no certificate, or one not from the CA -> the handshake (or first read) fails.
                for cert in (None, (rogue_crt, rogue_key)):
                    with self.assertRaises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
                        get(gw.port, cert)
                n = b.count()
                data = get(gw.port, (client_crt, client_key), extra=b"X-Client-Subject: CN=mallory\r\n")
                self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:100])
                self.assertEqual(b.count(), n + 1)
                hdrs = b.requests[-1]["headers"]
                subjects = [v for k, v in hdrs if k.lower() == "x-client-subject"]
                self.assertEqual(subjects, ["CN=alice,O=Example"], "ours only, the client's copy removed")
                fp = openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", client_crt).stdout
                fp = fp.split("=", 1)[1].strip().replace(":", "").lower()
                self.assertEqual([v for k, v in hdrs if k.lower() == "x-client-sha256"], [fp])
                # Optional: without a certificate the request passes, with no subject header.
                data = get(port2, None, extra=b"X-Client-Subject: CN=mallory\r\n")
                self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:100])
                self.assertEqual([v for k, v in b.requests[-1]["headers"] if k.lower() == "x-client-subject"], [])
                data = get(port2, (client_crt, client_key))
                self.assertEqual([v for k, v in b.requests[-1]["headers"] if k.lower() == "x-client-subject"],
                                 ["CN=alice,O=Example"])
        finally:
            b.close()


    def test_routes_match_the_client_certificate_subject(self):
        d = tempfile.mkdtemp(prefix="rampart-mtls-route-")
        crt, key = make_cert(d, "srv", "ec", ["a.test"])
        ca, client_crt, client_key = make_ca_and_client(d)
        cfg = """
listeners:
  - name: optional
    listen: 127.0.0.1:{port}
    tls:
      certificates: [{{ cert: "{crt}", key: "{key}" }}]
      client_certificates: {{ mode: optional, ca: "{ca}" }}
routes:
  - {{ name: bob, match: {{ client_certificate: {{ subject: "CN=bob,O=Example" }} }}, direct_response: {{ status: 200, body: bob }} }}
  - {{ name: pinned, match: {{ path: {{ prefix: /pinned }}, client_certificate: {{ fingerprint: "{fp}" }} }}, direct_response: {{ status: 200, body: pinned }} }}
  - {{ name: example, match: {{ client_certificate: {{ subject_regex: "CN=[a-z]+,O=Example" }} }}, direct_response: {{ status: 200, body: example }} }}
  - {{ name: anonymous, match: {{ client_certificate: {{ present: false }} }}, direct_response: {{ status: 200, body: anonymous }} }}
"""
        fp = openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", client_crt).stdout.split("=", 1)[1].strip()
        with Gateway(cfg, workers=1, extra={"crt": crt, "key": key, "ca": ca, "fp": fp}) as gw:
            def body(cert, extra=b"", path="/"):
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                if cert:
                    ctx.load_cert_chain(*cert)
                with ctx.wrap_socket(socket.create_connection(("127.0.0.1", gw.port), timeout=5),
                                     server_hostname="a.test") as s:
                    s.sendall(f"GET {path} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n".encode() + extra + b"\r\n")
                    data = b""
                    while chunk := s.recv(65536):
                        data += chunk
                return data.split(b"\r\n\r\n", 1)[1]

            self.assertEqual(body((client_crt, client_key)), b"example")
            self.assertEqual(body((client_crt, client_key), path="/pinned"), b"pinned")
            self.assertEqual(body(None, path="/pinned"), b"anonymous")
            self.assertEqual(body(None), b"anonymous")
            self.assertEqual(body(None, b"X-Client-Subject: CN=bob,O=Example\r\n"), b"anonymous",
                             "a header cannot stand in for a certificate")

    def test_rate_limit_keyed_on_client_certificate_subject(self):
        d = tempfile.mkdtemp(prefix="rampart-mtls-rl-")
        crt, key = make_cert(d, "srv", "ec", ["a.test"])
        ca, client_crt, client_key = make_ca_and_client(d)
        cfg = """
rate_limits:
  - {{ name: per-cert, key: [tls_client_subject], rate: 1/m, burst: 2 }}
listeners:
  - name: optional
    listen: 127.0.0.1:{port}
    rate_limits: [per-cert]
    tls:
      certificates: [{{ cert: "{crt}", key: "{key}" }}]
      client_certificates: {{ mode: optional, ca: "{ca}" }}
routes:
  - {{ name: hi, direct_response: {{ status: 200, body: "hi" }} }}
"""
        with Gateway(cfg, workers=2, extra={"crt": crt, "key": key, "ca": ca}) as gw:
            def status(cert):
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                if cert:
                    ctx.load_cert_chain(*cert)
                with ctx.wrap_socket(socket.create_connection(("127.0.0.1", gw.port), timeout=5),
                                     server_hostname="a.test") as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
                    data = b""
                    while chunk := s.recv(65536):
                        data += chunk
                return int(data.split(b" ", 2)[1])

            self.assertEqual([status((client_crt, client_key)) for _ in range(3)], [200, 200, 429],
                             "alice's certificate is one key, whatever connection or worker")
            self.assertEqual([status(None) for _ in range(4)], [200] * 4, "no certificate: the policy does not apply")


class TicketKeyTest(unittest.TestCase):
    def test_resumption_across_key_rotation_and_reload(self):
        cfg = """
listeners:
  - {{ name: t, listen: 127.0.0.1:{port}, tls: {{ ticket_key_rotation: 1s, session_timeout: 60s, session_cache_size: 0 }} }}
routes:
  - {{ name: hi, direct_response: {{ status: 200, body: "hi" }} }}
"""
        with Gateway(cfg, workers=2) as gw:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE

            def connect(session=None):
                s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", gw.port), timeout=5),
                                    server_hostname="localhost", session=session)
                s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                while s.recv(65536):
                    pass
                info = (s.session, s.session_reused)
                s.close()
                return info

            first, reused = connect()
            self.assertFalse(reused)
            time.sleep(2.2)  # the key that sealed `first` is no longer current
            _, reused = connect(first)
            self.assertTrue(reused, "a ticket under the previous key still resumes")
            gw.signal(signal.SIGHUP)
            deadline = time.time() + 10
            while "reload done" not in gw.output() and time.time() < deadline:
                time.sleep(0.05)
            self.assertIn("reload done", gw.output())
            _, reused = connect(first)
            self.assertTrue(reused, "ticket keys survive a reload")


class OcspStaplingTest(unittest.TestCase):
    def test_configured_response_is_stapled_and_reloaded(self):
        d = tempfile.mkdtemp(prefix="rampart-ocsp-")
        ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
        self.assertEqual(openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                 "-keyout", ca_key, "-out", ca_crt, "-days", "30", "-subj", "/CN=OCSP Test CA",
                                 "-addext", "basicConstraints=critical,CA:TRUE").returncode, 0)
        key, csr, crt = os.path.join(d, "srv.key"), os.path.join(d, "srv.csr"), os.path.join(d, "srv.crt")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                "-subj", "/CN=localhost")
        self.assertEqual(openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-set_serial", "4660",
                                 "-out", crt, "-days", "10").returncode, 0)
        os.chmod(key, 0o600)
        index = os.path.join(d, "index.txt")
        with open(index, "w") as f:
            f.write("V\t351231235959Z\t\t1234\tunknown\t/CN=localhost\n")
        resp = os.path.join(d, "resp.der")
        r = openssl("ocsp", "-index", index, "-rsigner", ca_crt, "-rkey", ca_key, "-CA", ca_crt, "-issuer", ca_crt,
                    "-cert", crt, "-respout", resp, "-ndays", "1")
        self.assertTrue(os.path.exists(resp), r.stderr)
        cfg = """
listeners:
  - {{ name: t, listen: 127.0.0.1:{port}, tls: {{ certificates: [{{ cert: "{crt}", key: "{key}", ocsp: "{resp}" }}] }} }}
routes:
  - {{ name: hi, direct_response: {{ status: 200, body: "hi" }} }}
"""
        with Gateway(cfg, workers=1, extra={"crt": crt, "key": key, "resp": resp}) as gw:
            out = s_client(gw.port, "-servername", "localhost", "-status")
            self.assertIn("OCSP Response Status: successful", out)
            self.assertIn("Cert Status: good", out)
            # A broken response file fails the reload (named) and the old one stays stapled.
            with open(resp, "wb") as f:
                f.write(b"garbage")
            gw.signal(signal.SIGHUP)
            deadline = time.time() + 10
            while "reload failed" not in gw.output() and time.time() < deadline:
                time.sleep(0.05)
            self.assertIn("not a DER OCSP response", gw.output())
            self.assertIn("Cert Status: good", s_client(gw.port, "-servername", "localhost", "-status"))


class RedirectAndHstsTest(unittest.TestCase):
    def test_redirect_listener_and_hsts(self):
        from harness import free_port, http
        plain = free_port()
        cfg = """
listeners:
  - {{ name: https, listen: 127.0.0.1:{port}, tls: self_signed }}
  - {{ name: http, listen: 127.0.0.1:{plain}, redirect_https: {{ port: {port} }} }}
routes:
  - {{ name: hi, direct_response: {{ status: 200, body: "hi" }}, hsts: {{ max_age: 1h, include_subdomains: true }} }}
"""
        with Gateway(cfg, workers=1, extra={"plain": plain}) as gw:
            st, h, _ = http(plain, "POST", "/a/b?c=d", headers={"Host": "shop.test:8080"}, body=b"x=1")
            self.assertEqual(st, 308)
            self.assertEqual(h["location"], f"https://shop.test:{gw.port}/a/b?c=d")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", gw.port), timeout=5), server_hostname="localhost")
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            self.assertIn(b"Strict-Transport-Security: max-age=3600; includeSubDomains\r\n", data)


@unittest.skipUnless(shutil.which("testssl"), "testssl.sh not installed (scripts/install-deps.sh installs it)")
class TestsslTest(unittest.TestCase):
    def test_testssl_finds_nothing_medium_or_above(self):
        # A certificate as an operator would deploy it: from a CA (given to testssl), valid 90
        # days, with CRL and OCSP locations; HSTS on the route. Every finding of severity MEDIUM
        # or above fails the test.
        import json
        d = tempfile.mkdtemp(prefix="rampart-testssl-")
        ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
        self.assertEqual(openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                 "-keyout", ca_key, "-out", ca_crt, "-days", "400", "-subj", "/CN=Rampart Test CA",
                                 "-addext", "basicConstraints=critical,CA:TRUE",
                                 "-addext", "keyUsage=critical,keyCertSign,cRLSign").returncode, 0)
        key, csr, crt = os.path.join(d, "srv.key"), os.path.join(d, "srv.csr"), os.path.join(d, "srv.crt")
        self.assertEqual(openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                                 "-out", csr, "-subj", "/CN=localhost").returncode, 0)
        ext = os.path.join(d, "ext.cnf")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                    "crlDistributionPoints=URI:http://crl.example.test/ca.crl\n"
                    "authorityInfoAccess=OCSP;URI:http://ocsp.example.test\n")
        self.assertEqual(openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
                                 "-out", crt, "-days", "90", "-extfile", ext).returncode, 0)
        os.chmod(key, 0o600)
        with open(crt, "a") as f, open(ca_crt) as c:
            f.write(c.read())  # the full chain
        cfg = """
listeners:
  - {{ name: tls, listen: 127.0.0.1:{port}, tls: {{ certificates: [{{ cert: "{crt}", key: "{key}" }}] }} }}
routes:
  - name: ok
    direct_response: {{ status: 200, body: "ok" }}
    hsts: {{ max_age: 365d, include_subdomains: true }}
    # testssl also grades the application's own headers (security_headers): an operator sets them per route.
    response_headers: {{ add: {{ X-Content-Type-Options: nosniff, X-Frame-Options: DENY,
                                 Content-Security-Policy: "default-src 'self'" }} }}
"""
        with Gateway(cfg, workers=1, extra={"crt": crt, "key": key}) as gw:
            out = os.path.join(d, "testssl.json")
            r = subprocess.run(["testssl", "--quiet", "--color", "0", "--warnings", "off", "--add-ca", ca_crt,
                                "--severity", "MEDIUM", "--jsonfile", out, "--ip", "127.0.0.1", f"localhost:{gw.port}"],
                               capture_output=True, text=True, timeout=300)
            with open(out) as f:
                findings = json.load(f)
        bad = [f"{x['severity']} {x['id']}: {x['finding']}" for x in findings
               if x["severity"] in ("MEDIUM", "HIGH", "CRITICAL")]
        self.assertEqual(bad, [], r.stdout[-3000:])


class TlsReloadTest(unittest.TestCase):
    def test_watch_reloads_when_the_files_change(self):
        d = tempfile.mkdtemp(prefix="rampart-tls-watch-")
        crt, key = make_cert(d, "one", "ec", ["a.test"])
        cfg = """
listeners:
  - name: tls
    listen: 127.0.0.1:{port}
    tls: {{ certificates: [{{ cert: "{crt}", key: "{key}" }}], watch: true }}
routes:
  - {{ name: hi, direct_response: {{ status: 200, body: "hi" }} }}
"""
        with Gateway(cfg, workers=1, extra={"crt": crt, "key": key}) as gw:
            def served_serial():
                out = s_client(gw.port, "-servername", "a.test", "-showcerts")
                pem = out[out.find("-----BEGIN CERTIFICATE-----"):out.find("-----END CERTIFICATE-----") + 25]
                return openssl("x509", "-noout", "-serial", input=pem).stdout

            serial1 = served_serial()
            make_cert(d, "one", "ec", ["a.test"])  # renewed in place, no signal
            serial2 = openssl("x509", "-noout", "-serial", "-in", crt).stdout
            self.assertNotEqual(serial1, serial2)
            deadline = time.time() + 10
            while served_serial() != serial2 and time.time() < deadline:
                time.sleep(0.2)
            self.assertEqual(served_serial(), serial2)
            self.assertIn("certificate files changed", gw.output())
            # A broken renewal keeps the old certificate in force.
            with open(crt, "w") as f:
                f.write("not a certificate\n")
            deadline = time.time() + 10
            while "reload failed" not in gw.output() and time.time() < deadline:
                time.sleep(0.2)
            self.assertIn("reload failed", gw.output())
            self.assertEqual(served_serial(), serial2)

    def test_reload_swaps_certificate_and_refuses_a_bad_one(self):
        d = tempfile.mkdtemp(prefix="rampart-tls-")
        crt, key = make_cert(d, "one", "ec", ["a.test"])
        cfg = """
listeners:
  - name: tls
    listen: 127.0.0.1:{port}
    tls: {{ certificates: [{{ cert: "{crt}", key: "{key}" }}] }}
routes:
  - {{ name: hi, direct_response: {{ status: 200, body: "hi" }} }}
"""
        with Gateway(cfg, workers=2, extra={"crt": crt, "key": key}) as gw:
            serial1 = openssl("x509", "-noout", "-serial", "-in", crt).stdout
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            # A connection opened before the reload keeps working after it.
            held = ctx.wrap_socket(socket.create_connection(("127.0.0.1", gw.port), timeout=5), server_hostname="a.test")

            def served_serial():
                out = s_client(gw.port, "-servername", "a.test", "-showcerts")
                pem = out[out.find("-----BEGIN CERTIFICATE-----"):out.find("-----END CERTIFICATE-----") + 25]
                return openssl("x509", "-noout", "-serial", input=pem).stdout

            self.assertEqual(served_serial(), serial1)
            make_cert(d, "one", "ec", ["a.test"])  # new key and certificate in the same files
            serial2 = openssl("x509", "-noout", "-serial", "-in", crt).stdout
            self.assertNotEqual(serial1, serial2)
            gw.signal(signal.SIGHUP)
            deadline = time.time() + 10
            while served_serial() != serial2 and time.time() < deadline:
                time.sleep(0.1)
            self.assertEqual(served_serial(), serial2)
            held.sendall(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
            self.assertTrue(held.recv(100).startswith(b"HTTP/1.1 200"))
            held.close()
            # A broken certificate file: the reload fails with the file named, the old certificate stays.
            with open(crt, "w") as f:
                f.write("not a certificate\n")
            gw.signal(signal.SIGHUP)
            deadline = time.time() + 10
            while "reload failed" not in gw.output() and time.time() < deadline:
                time.sleep(0.05)
            self.assertIn("reload failed", gw.output())
            self.assertIn(crt, gw.output())
            self.assertEqual(served_serial(), serial2)

    def test_check_refuses_readable_keys_and_mismatches(self):
        d = tempfile.mkdtemp(prefix="rampart-tls-")
        crt, key = make_cert(d, "k", "ec", ["a.test"])
        other_crt, _ = make_cert(d, "o", "ec", ["b.test"])
        os.chmod(key, 0o644)
        path = os.path.join(d, "c.yaml")

        def check(c, k):
            with open(path, "w") as f:
                f.write(f'listeners:\n  - name: t\n    listen: 127.0.0.1:1\n    tls: {{ certificates: [{{ cert: "{c}", key: "{k}" }}] }}\n'
                        'routes: [{ name: r, direct_response: { status: 200 } }]\n')
            r = subprocess.run([RAMPART, "check", "-c", path], capture_output=True, text=True, timeout=30)
            return r.returncode, r.stdout + r.stderr

        rc, out = check(crt, key)
        self.assertEqual(rc, 1)
        self.assertIn(key, out)
        self.assertIn("group or others", out)
        os.chmod(key, 0o600)
        self.assertEqual(check(crt, key)[0], 0)
        rc, out = check(other_crt, key)
        self.assertEqual(rc, 1)
        self.assertIn("does not match", out)

    def test_explicit_cipher_suites_and_groups(self):
        cfg = """
listeners:
  - {{ name: t, listen: 127.0.0.1:{port}, tls: {{ ciphersuites: TLS_CHACHA20_POLY1305_SHA256, groups: P-256 }} }}
routes:
  - {{ name: hi, direct_response: {{ status: 200, body: "hi" }} }}
"""
        with Gateway(cfg, workers=1) as gw:
            out = s_client(gw.port, "-servername", "localhost")
            self.assertIn("TLS_CHACHA20_POLY1305_SHA256", out)
            self.assertIn("Cipher is (NONE)", s_client(gw.port, "-ciphersuites", "TLS_AES_128_GCM_SHA256"))
            self.assertIn("Cipher is (NONE)", s_client(gw.port, "-groups", "X25519"))
        d = tempfile.mkdtemp(prefix="rampart-ciphers-")
        path = os.path.join(d, "bad.yaml")
        for tls, expect in (("{ ciphersuites: TLS_NOPE }", "tls.ciphersuites: 'TLS_NOPE' is not a list OpenSSL accepts"),
                            ("{ groups: P-999 }", "tls.groups: 'P-999'"),
                            ("{ ciphers: ECDHE-RSA-AES128-GCM-SHA256 }", "need min_version")):
            with open(path, "w") as f:
                f.write("listeners: [{ name: t, listen: 127.0.0.1:1, tls: " + tls + " }]\n"
                        "routes: [{ name: r, direct_response: { status: 200 } }]\n")
            r = subprocess.run([RAMPART, "check", "-c", path], capture_output=True, text=True, timeout=30)
            with self.subTest(tls=tls):
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn(expect, r.stdout + r.stderr)

    def test_self_signed_fallback_warns(self):
        cfg = """
listeners:
  - {{ name: dev, listen: 127.0.0.1:{port}, tls: self_signed }}
routes:
  - {{ name: hi, direct_response: {{ status: 200, body: "hi" }} }}
"""
        with Gateway(cfg, workers=1) as gw:
            out = s_client(gw.port, "-servername", "localhost")
            self.assertIn("TLSv1.3", out)
            self.assertIn("CN = localhost", out)
            self.assertIn("self-signed certificate for localhost", gw.output())


def make_ca(d, name="ca"):
    ca_key, ca_crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    assert openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key,
                   "-out", ca_crt, "-days", "3", "-subj", "/CN=" + name,
                   "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign").returncode == 0
    return ca_crt, ca_key


def make_signed(d, ca, name, san):
    """A leaf certificate for `san` (e.g. "DNS:backend.test,IP:127.0.0.1") signed by ca = (crt, key)."""
    key, csr, crt = (os.path.join(d, name + ext) for ext in (".key", ".csr", ".crt"))
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName={san}\n")
    assert openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                   "-subj", "/O=Example/CN=" + name).returncode == 0
    r = openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial", "-out", crt,
                "-days", "3", "-extfile", ext)
    assert r.returncode == 0, r.stderr
    os.chmod(key, 0o600)
    return crt, key


class UpstreamTlsTest(unittest.TestCase):
    """TLS from rampart to backends: verification against a CA bundle and a name (DNS
    or IP SAN), SNI, client certificates, session resumption on new connections,
    502 on a failed verification, health checks over TLS, config errors."""

    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="rampart-utls-")
        cls.ca = make_ca(cls.d, "backend-ca")
        cls.other_ca = make_ca(cls.d, "other-ca")
        cls.srv = make_signed(cls.d, cls.ca, "backend.test", "DNS:backend.test,IP:127.0.0.1")
        cls.client = make_signed(cls.d, cls.other_ca, "gateway", "DNS:gateway.test")

    def backend(self, require_client_cert=False, handler=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self.srv)
        if require_client_cert:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.other_ca[0])
        return Backend(handler=handler, tls=ctx)

    def gateway(self, pool_tls, b, extra_pool=""):
        cfg = """
listeners:
  - {{ name: main, listen: 127.0.0.1:{port} }}
pools:
  - name: app
    endpoints: ["{backend}"]
    tls: %s
%s
routes:
  - {{ name: app, pool: app }}
""" % tuple(x.replace("{", "{{").replace("}", "}}") for x in (pool_tls, extra_pool))
        return Gateway(cfg, workers=1, extra={"backend": b.address})

    def test_verified_with_sni_keepalive_and_resumption(self):
        b = self.backend(handler=lambda req: (200, {"Content-Type": "text/plain"} if req["path"] != "/close"
                                               else {"Connection": "close"}, b"secure"))
        try:
            with self.gateway('{ ca: "%s", server_name: backend.test }' % self.ca[0], b) as gw:
                for _ in range(3):
                    st, _, body = http(gw.port, "GET", "/")
                    self.assertEqual((st, body), (200, b"secure"))
                self.assertEqual(b.connections, 1, "kept alive and reused over TLS")
                self.assertEqual(b.sni, ["backend.test"])
                self.assertEqual(metric(gw.admin, "rampart_upstream_tls_handshakes_total"), 1)
                # The backend closes; the next connection resumes the session.
                self.assertEqual(http(gw.port, "GET", "/close")[0], 200)
                self.assertEqual(http(gw.port, "GET", "/")[0], 200)
                self.assertEqual(b.connections, 2)
                self.assertEqual(metric(gw.admin, "rampart_upstream_tls_resumed_total"), 1)
        finally:
            b.close()

    def test_ip_endpoint_verified_against_ip_san_without_sni(self):
        b = self.backend()
        try:
            with self.gateway('{ ca: "%s" }' % self.ca[0], b) as gw:
                self.assertEqual(http(gw.port, "GET", "/")[0], 200)
                self.assertEqual(b.sni, [None], "no SNI for an IP address (RFC 6066)")
        finally:
            b.close()

    def test_verification_failure_is_502(self):
        b = self.backend()
        try:
            for pool_tls, why in (('{ ca: "%s", server_name: backend.test }' % self.other_ca[0], "certificate verify failed"),
                                  ('{ ca: "%s", server_name: wrong.test }' % self.ca[0], "certificate verify failed"),
                                  ('{ server_name: backend.test }', "certificate verify failed")):  # system store
                with self.subTest(pool_tls=pool_tls), self.gateway(pool_tls, b) as gw:
                    st, _, body = http(gw.port, "GET", "/")
                    self.assertEqual(st, 502, body)
                    self.assertIn(b"TLS handshake failed", body)
                    self.assertEqual(metric(gw.admin, "rampart_upstream_tls_failures_total"), 1)
                    gw.stop()
                    recs = gw.access_records()
                    self.assertTrue(any(why in r.get("error", "") for r in recs), recs)
            self.assertEqual(b.count(), 0, "no request reached an unverified backend")
            # verify: false encrypts without checking (labs): the same backend answers.
            with self.gateway("{ verify: false }", b) as gw:
                self.assertEqual(http(gw.port, "GET", "/")[0], 200)
        finally:
            b.close()

    def test_client_certificate(self):
        b = self.backend(require_client_cert=True)
        try:
            with self.gateway('{ ca: "%s", server_name: backend.test }' % self.ca[0], b) as gw:
                self.assertEqual(http(gw.port, "GET", "/")[0], 502, "the backend requires a certificate")
            with self.gateway('{ ca: "%s", server_name: backend.test, client_certificate: { cert: "%s", key: "%s" } }'
                              % (self.ca[0], *self.client), b) as gw:
                self.assertEqual(http(gw.port, "GET", "/")[0], 200)
                subject = dict(x[0] for x in b.peer_certs[-1]["subject"])
                self.assertEqual(subject["commonName"], "gateway")
        finally:
            b.close()

    def test_active_health_check_over_tls(self):
        good = self.backend(handler=lambda req: (200, {}, b"good"))
        bad_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        bad_ctx.load_cert_chain(*self.client)  # a certificate from another CA
        bad = Backend(handler=lambda req: (200, {}, b"bad"), tls=bad_ctx)
        try:
            cfg = """
listeners:
  - {{ name: main, listen: 127.0.0.1:{port} }}
pools:
  - name: app
    endpoints: ["{good}", "{bad}"]
    tls: {{ ca: "{ca}", server_name: backend.test }}
    health:
      active: {{ path: /health, interval: 200ms, timeout: 150ms, unhealthy_threshold: 1, healthy_threshold: 1 }}
routes:
  - {{ name: app, pool: app }}
"""
            with Gateway(cfg, workers=1, extra={"good": good.address, "bad": bad.address, "ca": self.ca[0]}) as gw:
                # Both checks done: the bad one's handshake fails at once, the
                # good one's may still be in flight then (a loaded machine).
                deadline = time.time() + 10
                while time.time() < deadline and (
                        metric(gw.admin, "rampart_upstream_healthy", {"endpoint": bad.address}) != 0
                        or not any(r["path"] == "/health" for r in good.requests)):
                    time.sleep(0.1)
                self.assertEqual(metric(gw.admin, "rampart_upstream_healthy", {"endpoint": bad.address}), 0)
                self.assertEqual(metric(gw.admin, "rampart_upstream_healthy", {"endpoint": good.address}), 1)
                self.assertTrue(any(r["path"] == "/health" for r in good.requests), "checks reached the good one")
                for _ in range(6):
                    st, _, body = http(gw.port, "GET", "/")
                    self.assertEqual((st, body), (200, b"good"))
                self.assertEqual(bad.count(), 0)
        finally:
            good.close()
            bad.close()

    def test_config_errors(self):
        path = os.path.join(self.d, "bad.yaml")
        for tls, expect in (('{ ca: "/nonexistent/ca.pem" }', "/nonexistent/ca.pem: cannot read"),
                            ("{ min_version: \"1.1\" }", "min_version"),
                            ("{ verify: false, ca: x.pem }", "unused with verify: false"),
                            ("{ client_certificate: { cert: a.pem } }", "needs cert and key"),
                            ("{ sni: x }", "sni")):
            with open(path, "w") as f:
                f.write("listeners: [{ name: l, listen: 127.0.0.1:1 }]\n"
                        "pools:\n  - name: app\n    endpoints: [127.0.0.1:9]\n    tls: " + tls + "\n"
                        "routes: [{ name: r, pool: app }]\n")
            r = subprocess.run([RAMPART, "check", "-c", path], capture_output=True, text=True, timeout=30)
            with self.subTest(tls=tls):
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn(expect, r.stdout + r.stderr)
                self.assertIn(path + ":", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
