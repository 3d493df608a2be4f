"""Operations through the real binary: admin pages, access log, `rampart check`,
SIGHUP reload (good and bad, under load), SIGTERM drain."""

import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import RAMPART, Backend, Gateway, check_config, http, metric, wait_metric, wait_port

BASE = """
listeners: [ {{ name: main, listen: ["127.0.0.1:{port}"] }} ]
routes:
  - name: hello
    match: {{ path: {{ exact: "/hello" }} }}
    direct_response: {{ status: 200, body: "{greeting}" }}
  - name: app
    match: {{ path: {{ prefix: "/" }} }}
    pool: app
pools:
  - name: app
    endpoints: [ {{ address: "{backend}" }} ]
"""


def check(text):
    return check_config(text)


class CheckTest(unittest.TestCase):
    def test_default_config_is_valid(self):
        root = os.environ.get("RAMPART_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
        p = subprocess.run([RAMPART, "check", "-c", os.path.join(root, "conf/rampart.yaml")], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_errors_name_file_line_column(self):
        rc, out, path = check("listeners:\n  - name: main\n    listen: [\"127.0.0.1:8080\"]\n    lisen: x\n"
                              "routes:\n  - name: r\n    match: { path: { prefix: \"/\" } }\n    pool: nowhere\n"
                              "timeouts:\n  keepalive: soon\n")
        self.assertEqual(rc, 1)
        self.assertIn(f"{path}:4:5: error: unknown key 'lisen' in listener", out)
        self.assertIn(f"{path}:8:11: error: route 'r' names unknown pool 'nowhere'", out)
        self.assertIn(f"{path}:10:14: error: timeouts.keepalive must be a duration", out)

    def test_wrong_types_and_yaml_syntax(self):
        rc, out, path = check("workers: many\nlisteners: {}\n")
        self.assertEqual(rc, 1)
        self.assertIn(f"{path}:1:10: error: workers must be a whole number", out)
        self.assertIn(f"{path}:2:12: error: listeners must be a list", out)
        rc, out, path = check("listeners: [\n")
        self.assertEqual(rc, 1)
        self.assertIn(path + ":", out)

    def test_busy_poll_us_range(self):
        rc, out, path = check("busy_poll_us: 200000\nlisteners: []\n")
        self.assertEqual(rc, 1)
        self.assertIn(f"{path}:1:15: error: busy_poll_us must be between 0 and 100000, got 200000", out)

    def test_waf_value_memo_is_a_boolean(self):
        rc, out, path = check("waf:\n  value_memo: sometimes\nlisteners: []\n")
        self.assertEqual(rc, 1)
        self.assertIn(f"{path}:2:15: error: waf.value_memo must be", out)
        rc, out, path = check("waf:\n  value_memo: false\nlisteners:\n  - { name: main, listen: [\"127.0.0.1:8080\"] }\n"
                              "routes: [ { name: r, pool: app } ]\npools: [ { name: app, endpoints: [\"127.0.0.1:9\"] } ]\n")
        self.assertEqual(rc, 0, out)

    def test_help_and_version(self):
        for args in (["--help"], ["run", "--help"], ["check", "--help"], ["version"]):
            p = subprocess.run([RAMPART] + args, capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 0, args)
            self.assertTrue(p.stdout.strip())


class AdminAndLogTest(unittest.TestCase):
    def test_admin_pages_and_access_log(self):
        backend = Backend()
        try:
            with Gateway(BASE, extra={"backend": backend.address, "greeting": "hi"}) as gw:
                for i in range(5):
                    http(gw.port, "GET", f"/a{i}", {"User-Agent": "it/1"})
                self.assertEqual(http(gw.admin, "GET", "/healthz")[0], 200)
                self.assertEqual(http(gw.admin, "GET", "/ready")[0], 200)
                self.assertGreaterEqual(wait_metric(gw.admin, "rampart_requests_total", {"route": "app", "class": "2xx"}, 5), 5)
                self.assertGreaterEqual(wait_metric(gw.admin, "rampart_request_duration_seconds_count", {"route": "app"}, 5), 5)
                up = json.loads(http(gw.admin, "GET", "/upstreams")[2])
                self.assertEqual(up["pools"][0]["endpoints"][0]["address"], backend.address)
                cfg = json.loads(http(gw.admin, "GET", "/config")[2])
                self.assertEqual(cfg["routes"][0]["name"], "hello")
                self.assertEqual(http(gw.admin, "GET", "/nope")[0], 404)
                deadline = time.time() + 3
                recs = []
                while time.time() < deadline and len(recs) < 5:
                    time.sleep(0.1)
                    recs = [r for r in gw.access_records() if r["path"].startswith("/a")]
                self.assertEqual(len(recs), 5)
                r = recs[0]
                for field in ("time", "request_id", "client", "method", "host", "path", "status", "bytes_in",
                              "bytes_out", "upstream", "upstream_ms", "total_ms", "route", "listener"):
                    self.assertIn(field, r)
                self.assertEqual((r["status"], r["route"], r["upstream"], r["user_agent"]), (200, "app", backend.address, "it/1"))
        finally:
            backend.close()


def process_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BusyPollTest(unittest.TestCase):
    def test_busy_polling_workers_serve_sleep_when_idle_and_stop(self):
        backend = Backend()
        gw = Gateway("busy_poll_us: 500\n" + BASE, extra={"backend": backend.address, "greeting": "hi"}).start()
        try:
            for i in range(50):
                self.assertEqual(http(gw.port, "GET", f"/a{i}")[0], 200)
            self.assertEqual(http(gw.port, "GET", "/hello")[2], b"hi")
            # Polling lasts 500 us after the last event: an idle gateway sleeps
            # (two workers polling all along would use ~2 s of CPU in this second).
            time.sleep(0.3)
            c0 = process_cpu_seconds(gw.proc.pid)
            time.sleep(1.0)
            self.assertLess(process_cpu_seconds(gw.proc.pid) - c0, 0.3)
            # A reload keeps the workers' setting and says so.
            with open(gw.path) as f:
                text = f.read()
            with open(gw.path, "w") as f:
                f.write(text.replace("busy_poll_us: 500", "busy_poll_us: 0"))
            gw.signal(signal.SIGHUP)
            deadline = time.time() + 5
            while time.time() < deadline and "takes effect at the next restart" not in gw.output():
                time.sleep(0.05)
            self.assertIn("reload: 'busy_poll_us' changed; it takes effect at the next restart", gw.output())
            self.assertEqual(http(gw.port, "GET", "/a")[0], 200)
            t0 = time.time()
            self.assertEqual(gw.stop(), 0)
            self.assertLess(time.time() - t0, 5)
        finally:
            gw.stop()
            backend.close()


def thread_names(pid):
    """{tid: name} of a process's threads. A thread that ends between the
    listing and the read is left out (CI once saw one go, ENOENT on its comm:
    the health checker's, which then started without a pool to check)."""
    names = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                names[tid] = f.read().strip()
        except FileNotFoundError:
            pass
    return names


class ThreadNamesTest(unittest.TestCase):
    def test_threads_are_named(self):
        """top -H, perf and gdb show what each thread is."""
        backend = Backend()
        d = tempfile.mkdtemp(prefix="rampart-it-sink-")
        sinks = ("sinks:\n  - {{ name: archive, type: local, path: '%s/out', spool: {{ path: '%s/spool' }} }}\n"
                 % (d, d))
        gw = Gateway(sinks + BASE, extra={"backend": backend.address, "greeting": "hi"}).start()
        try:
            # Each thread names itself as it starts, which may be just after the
            # listener opens (a worker on a loaded machine): looked at until all are there.
            want = {"worker-0", "worker-1", "log-access", "log-audit", "sink-archive"}
            deadline = time.time() + 5
            while True:
                names = set(thread_names(gw.proc.pid).values())
                if want <= names or time.time() > deadline:
                    break
                time.sleep(0.02)
            self.assertLessEqual(want, names)
        finally:
            gw.stop()
            backend.close()


class IdleThreadsTest(unittest.TestCase):
    def test_log_and_sink_threads_sleep_when_idle_and_wake_for_a_record(self):
        """An idle gateway does not poll: the log writers and the sink thread
        sleep until a record comes (they woke 50 and 10 times a second)."""
        d = tempfile.mkdtemp(prefix="rampart-idle-")
        path = os.path.join(d, "access.log")
        cfg = ("log: {{ access: {{ path: '%s' }} }}\n"
               "sinks:\n  - {{ name: archive, type: local, path: '%s/out', spool: {{ path: '%s/spool' }},"
               " batch: {{ max_age: 300ms }} }}\n" % (path, d, d)) + """
listeners: [ {{ name: main, listen: ["127.0.0.1:{port}"] }} ]
routes: [ {{ name: d, match: {{ path: {{ prefix: "/" }} }}, direct_response: {{ status: 200, body: "ok" }} }} ]
"""
        with Gateway(cfg) as gw:
            pid = gw.proc.pid

            def wakeups():
                n = {}
                for tid, name in thread_names(pid).items():
                    if name in ("log-access", "log-audit", "sink-archive"):
                        with open(f"/proc/{pid}/task/{tid}/status") as f:
                            n[name] = next(int(l.split()[1]) for l in f if l.startswith("voluntary_ctxt_switches"))
                return n

            for round_ in range(2):
                time.sleep(0.5)  # past the writers' 100 ms of empty rounds
                w0 = wakeups()
                time.sleep(2.0)
                w1 = wakeups()
                self.assertEqual(sorted(w0), ["log-access", "log-audit", "sink-archive"])
                for name in w0:
                    # A sleeping writer wakes once a second at most; the sink not at all.
                    self.assertLessEqual(w1[name] - w0[name], 4, (name, w0, w1))
                # A record after the lull is written at once, not at the writer's timeout.
                t0 = time.time()
                self.assertEqual(http(gw.port, "GET", f"/after-idle-{round_}")[0], 200)
                while time.time() - t0 < 3 and not (os.path.exists(path) and
                                                    f"/after-idle-{round_}" in open(path).read()):
                    time.sleep(0.005)
                self.assertLess(time.time() - t0, 0.5)
            # The sink's batch is cut at its age limit (it slept with nothing pending).
            deadline = time.time() + 5
            while time.time() < deadline and metric(gw.admin, "rampart_sink_records_shipped_total",
                                                    {"sink": "archive", "stream": "access"}) < 2:
                time.sleep(0.05)
            self.assertEqual(metric(gw.admin, "rampart_sink_records_shipped_total",
                                    {"sink": "archive", "stream": "access"}), 2)


class AccessLogFileTest(unittest.TestCase):
    def test_file_log_is_reopened_on_sighup(self):
        d = tempfile.mkdtemp(prefix="rampart-log-")
        path = os.path.join(d, "access.log")
        cfg = """
log: {{ access: {{ path: "{log}" }} }}
listeners: [ {{ name: main, listen: ["127.0.0.1:{port}"] }} ]
routes: [ {{ name: d, match: {{ path: {{ prefix: "/" }} }}, direct_response: {{ status: 200, body: "ok" }} }} ]
"""
        with Gateway(cfg, extra={"log": path}) as gw:
            http(gw.port, "GET", "/before")
            deadline = time.time() + 3
            while time.time() < deadline and not (os.path.exists(path) and "/before" in open(path).read()):
                time.sleep(0.05)
            self.assertIn('"path":"/before"', open(path).read())
            os.rename(path, path + ".1")  # what logrotate does
            gw.signal(signal.SIGHUP)
            time.sleep(0.3)
            http(gw.port, "GET", "/after")
            deadline = time.time() + 3
            while time.time() < deadline and not (os.path.exists(path) and "/after" in open(path).read()):
                time.sleep(0.05)
            self.assertIn('"path":"/after"', open(path).read())
            self.assertNotIn("/after", open(path + ".1").read())


class ConnectionLimitTest(unittest.TestCase):
    def test_max_connections_holds_further_clients_in_the_backlog(self):
        cfg = """
listeners: [ {{ name: main, listen: ["127.0.0.1:{port}"], limits: {{ max_connections: 2 }} }} ]
routes: [ {{ name: d, match: {{ path: {{ prefix: "/" }} }}, direct_response: {{ status: 200, body: "ok" }} }} ]
"""
        with Gateway(cfg) as gw:
            def keepalive_request(s):
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                return s.recv(4096)

            a = socket.create_connection(("127.0.0.1", gw.port), timeout=2)
            b = socket.create_connection(("127.0.0.1", gw.port), timeout=2)
            self.assertIn(b"200 OK", keepalive_request(a))
            self.assertIn(b"200 OK", keepalive_request(b))
            c = socket.create_connection(("127.0.0.1", gw.port), timeout=0.5)  # the kernel completes the handshake
            c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            with self.assertRaises(socket.timeout):
                c.recv(4096)  # not accepted while two are open
            a.close()
            c.settimeout(3)
            self.assertIn(b"200 OK", c.recv(4096))  # accepted once one closed
            b.close()
            c.close()


class ListenerTest(unittest.TestCase):
    def test_ipv4_and_ipv6_addresses(self):
        import socket
        try:
            probe = socket.socket(socket.AF_INET6)
            probe.bind(("::1", 0))
            probe.close()
        except OSError:
            self.skipTest("no IPv6 loopback on this machine")
        cfg = """
listeners: [ {{ name: main, listen: ["127.0.0.1:{port}", "[::1]:{port}"] }} ]
routes: [ {{ name: d, match: {{ path: {{ prefix: "/" }} }}, direct_response: {{ status: 200, body: "both" }} }} ]
"""
        with Gateway(cfg) as gw:
            self.assertEqual(http(gw.port, "GET", "/")[2], b"both")
            s = socket.create_connection(("::1", gw.port), timeout=3)
            s.sendall(b"GET / HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            s.close()
            self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:60])
            self.assertTrue(data.endswith(b"both"))
            rec = [r for r in gw.access_records() if r["client"].startswith("[::1]")]
            deadline = time.time() + 2
            while not rec and time.time() < deadline:
                time.sleep(0.05)
                rec = [r for r in gw.access_records() if r["client"].startswith("[::1]")]
            self.assertTrue(rec, "no access record with an IPv6 client address")


class ReloadDrainTest(unittest.TestCase):
    def test_sighup_as_soon_as_listening_reloads(self):
        """A SIGHUP that comes the moment the listeners accept (a `systemctl
        reload` right after start) reloads; it used to find SIGHUP's default
        action still in place and end the process."""
        backend = Backend()
        for _ in range(5):
            gw = Gateway(BASE, extra={"backend": backend.address, "greeting": "hi"}).spawn()
            try:
                self.assertTrue(wait_port(gw.port, interval=0.0002))
                gw.signal(signal.SIGHUP)
                self.assertTrue(wait_port(gw.admin))
                deadline = time.time() + 5
                while time.time() < deadline and "reload done" not in gw.output():
                    time.sleep(0.02)
                self.assertIsNone(gw.proc.poll(), gw.output())
                self.assertIn("reload done", gw.output())
                self.assertEqual(http(gw.port, "GET", "/hello")[2], b"hi")
            finally:
                gw.stop()
        backend.close()

    def test_reload_under_load_fails_nothing(self):
        backend = Backend()
        gw = Gateway(BASE, extra={"backend": backend.address, "greeting": "one"}).start()
        try:
            stop = threading.Event()
            results = []

            def load():
                end = time.time() + 8
                while not stop.is_set() and time.time() < end:
                    try:
                        results.append(http(gw.port, "GET", "/x")[0])
                    except OSError as e:
                        results.append(str(e))

            threads = [threading.Thread(target=load) for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.3)
            for i in range(5):
                gw.write(BASE, extra={"backend": backend.address, "greeting": f"v{i}"})
                gw.signal(signal.SIGHUP)
                time.sleep(0.2)
            stop.set()
            for t in threads:
                t.join(10)
            self.assertGreater(len(results), 50)
            self.assertEqual([r for r in results if r != 200], [])
            deadline = time.time() + 3
            while time.time() < deadline and http(gw.port, "GET", "/hello")[2] != b"v4":
                time.sleep(0.05)
            self.assertEqual(http(gw.port, "GET", "/hello")[2], b"v4")
            self.assertEqual(metric(gw.admin, "rampart_config_reloads_total", {"result": "ok"}), 5)
        finally:
            gw.stop()
            backend.close()

    def test_bad_reload_keeps_old_config(self):
        backend = Backend()
        gw = Gateway(BASE, extra={"backend": backend.address, "greeting": "old"}).start()
        try:
            with open(gw.path, "a") as f:
                f.write("bogus_key: 1\n")
            gw.signal(signal.SIGHUP)
            deadline = time.time() + 3
            while time.time() < deadline and metric(gw.admin, "rampart_config_reloads_total", {"result": "error"}) < 1:
                time.sleep(0.05)
            self.assertEqual(metric(gw.admin, "rampart_config_reloads_total", {"result": "error"}), 1)
            self.assertEqual(http(gw.port, "GET", "/hello")[2], b"old")
            self.assertIn(f"{gw.path}:", gw.output())
            self.assertIn("unknown key 'bogus_key'", gw.output())
            self.assertIn("running configuration stays in force", gw.output())
        finally:
            gw.stop()
            backend.close()

    def test_reload_adds_and_removes_listen_addresses(self):
        from harness import free_port
        import socket
        extra_port = free_port()
        two = """
listeners:
  - {{ name: main, listen: ["127.0.0.1:{port}"] }}
  - {{ name: second, listen: ["127.0.0.1:{extra}"] }}
routes:
  - {{ name: hello, match: {{ path: {{ prefix: /hello }} }}, direct_response: {{ status: 200, body: "hi" }} }}
"""
        one = """
listeners:
  - {{ name: main, listen: ["127.0.0.1:{port}"] }}
routes:
  - {{ name: hello, match: {{ path: {{ prefix: /hello }} }}, direct_response: {{ status: 200, body: "hi" }} }}
"""

        def reload_and_wait(gw, n):
            gw.signal(signal.SIGHUP)
            deadline = time.time() + 5
            while time.time() < deadline and metric(gw.admin, "rampart_config_reloads_total") < n:
                time.sleep(0.05)

        gw = Gateway(one, workers=2, extra={"extra": extra_port}).start()
        try:
            with self.assertRaises(OSError):
                http(extra_port, "GET", "/hello", timeout=1)
            # Added: every worker accepts on it after the reload.
            gw.write(two, {"extra": extra_port})
            reload_and_wait(gw, 1)
            self.assertEqual(metric(gw.admin, "rampart_config_reloads_total", {"result": "ok"}), 1)
            self.assertEqual([http(extra_port, "GET", "/hello")[0] for _ in range(20)], [200] * 20)
            self.assertIn(f"reload: listening on 127.0.0.1:{extra_port} (listener 'second')", gw.output())
            # A connection open on it survives its removal; new connections are refused.
            kept = socket.create_connection(("127.0.0.1", extra_port), timeout=5)
            kept.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200", kept.recv(4096))
            gw.write(one, {"extra": extra_port})
            reload_and_wait(gw, 2)
            time.sleep(0.2)
            with self.assertRaises(OSError):
                http(extra_port, "GET", "/hello", timeout=1)
            kept.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200", kept.recv(4096))
            kept.close()
            self.assertEqual(http(gw.port, "GET", "/hello")[0], 200)
            # A TLS listener added by a reload terminates TLS at once.
            tls_port = free_port()
            gw.write(one.replace("listeners:\n", "listeners:\n  - {{ name: secure, listen: [\"127.0.0.1:{tls}\"], "
                                 "tls: self_signed }}\n"), {"extra": extra_port, "tls": tls_port})
            reload_and_wait(gw, 3)
            import ssl
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as raw_sock:
                with ctx.wrap_socket(raw_sock, server_hostname="localhost") as tls_sock:
                    self.assertEqual(tls_sock.version(), "TLSv1.3")
                    tls_sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    self.assertIn(b"200", tls_sock.recv(4096))
            # An address that cannot be bound fails the reload; the old listeners stay.
            blocker = socket.socket()
            blocker.bind(("127.0.0.1", 0))
            blocker.listen(1)
            busy = blocker.getsockname()[1]
            gw.write(two, {"extra": busy})
            reload_and_wait(gw, 4)
            self.assertEqual(metric(gw.admin, "rampart_config_reloads_total", {"result": "error"}), 1)
            self.assertIn("cannot listen on", gw.output())
            self.assertEqual(http(gw.port, "GET", "/hello")[0], 200)
            blocker.close()
        finally:
            gw.stop()

    def test_sigterm_drains_in_flight_requests(self):
        slow = Backend(lambda req: (time.sleep(1.0), (200, {}, b"done"))[1])
        gw = Gateway(BASE, extra={"backend": slow.address, "greeting": "x"}).start()
        results = []
        try:
            threads = [threading.Thread(target=lambda: results.append(http(gw.port, "GET", "/slow", timeout=10)))
                       for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.3)  # all four are in flight at the backend
            gw.signal(signal.SIGTERM)
            time.sleep(0.2)
            self.assertEqual(http(gw.admin, "GET", "/ready")[0], 503)
            for t in threads:
                t.join(10)
            rc = gw.proc.wait(10)
            self.assertEqual(rc, 0)
            self.assertEqual([(s, b) for s, _, b in results], [(200, b"done")] * 4)
            for _, headers, _ in results:
                self.assertEqual(headers.get("connection"), "close")
        finally:
            gw.stop()
            slow.close()


if __name__ == "__main__":
    unittest.main()
