"""Integration test harness: the real rampart binary on 127.0.0.1 in front of
real backend servers (threads in this process). Python standard library only.

    with Gateway(config_text) as gw:          # starts `rampart run -c`, waits for readiness
        status, headers, body = http(gw.port, "GET", "/")

Every server binds 127.0.0.1; every loop in the tests is bounded in count and time.
"""

import http.client as httpclient
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

# Set by scripts/sanitize.sh: the binary is built with a sanitizer, whose shadow
# memory and allocator make resident-memory bounds moot and compiles slow.
SANITIZED = os.environ.get("RAMPART_SANITIZED") == "1"
RAMPART = os.environ.get("RAMPART_BIN", os.path.join(os.path.dirname(__file__), "../../build/rampart"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10.0, interval=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(interval)
    return False


class Gateway:
    """Runs rampart with a config template; {port} and {admin} are filled in."""

    def __init__(self, config, workers=2, extra=None, env=None):
        self.env = env  # the process's environment (None: this one's)
        self.port = free_port()
        self.admin = free_port()
        self.dir = tempfile.mkdtemp(prefix="rampart-it-")
        self.path = os.path.join(self.dir, "rampart.yaml")
        self.workers = workers
        self.write(config, extra)
        self.proc = None
        self.log_path = os.path.join(self.dir, "stderr.log")

    def write(self, config, extra=None):
        values = {"port": self.port, "admin": self.admin}
        values.update(extra or {})
        text = f"workers: {self.workers}\nadmin:\n  listen: 127.0.0.1:{self.admin}\n" + config.format(**values)
        with open(self.path, "w") as f:
            f.write(text)

    def spawn(self):
        """Starts the process without waiting for its ports."""
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([RAMPART, "run", "-c", self.path], stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env)
        return self

    def start(self):
        self.spawn()
        # A gateway compiles its rule sets before it listens: CRS on a loaded
        # 2-core CI machine (ctest -j2 beside another test) may take seconds.
        # One that exited is reported at once.
        deadline = time.time() + (300.0 if SANITIZED else 30.0)  # (a sanitized CRS compile: minutes)
        up = False
        while time.time() < deadline and self.proc.poll() is None:
            if wait_port(self.port, 0.5) and wait_port(self.admin, 0.5):
                up = True
                break
        if not up:
            self.stop()
            raise RuntimeError("rampart did not start:\n" + self.output())
        return self

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def access_records(self):
        out = []
        for line in self.output().splitlines():
            if line.startswith("{") and '"request_id"' in line:
                out.append(json.loads(line))
        return out

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def check_config(text, env=None, home=False):
    """`rampart check` on `text` written to a fresh directory: (exit code, output, path).
    home: run with HOME set to that directory and no AWS_* variables (credentials lookups
    see nothing of the machine's)."""
    d = tempfile.mkdtemp(prefix="rampart-check-")
    path = os.path.join(d, "c.yaml")
    with open(path, "w") as f:
        f.write(text)
    if home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["HOME"] = d
    r = subprocess.run([RAMPART, "check", "-c", path], capture_output=True, text=True, timeout=30, env=env)
    return r.returncode, r.stdout + r.stderr, path


def http(port, method, path, headers=None, body=None, timeout=5):
    """One request on a new connection; returns (status, headers dict lower-cased, body bytes)."""
    c = httpclient.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def recv_until(s, marker):
    """Bytes from socket s until `marker` has come (or the peer closed)."""
    data = b""
    while marker not in data:
        b = s.recv(4096)
        if not b:
            break
        data += b
    return data


def raw(port, data, timeout=3, read_until_close=True):
    """Sends raw bytes, returns everything received until the server closes (or timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        chunks = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if not b:
                return b"".join(chunks), True  # closed by the server
            chunks.append(b)
            if not read_until_close:
                break
        return b"".join(chunks), False
    finally:
        s.close()


class Backend:
    """A threaded HTTP/1.1 backend that records requests. handler(req) -> (status, headers, body)
    where req = {"method", "path", "headers" (list of (name, value)), "body"}. Supports
    keep-alive, Content-Length and chunked request bodies, and a few special behaviours
    through the handler's return value (see respond())."""

    def __init__(self, handler=None, name="b", tls=None):
        """tls: an ssl.SSLContext (server side) to serve HTTPS; the SNI names and the
        client certificates seen are recorded in .sni and .peer_certs."""
        self.name = name
        self.tls = tls
        self.sni = []
        self.peer_certs = []
        self.tls_failures = 0
        if tls is not None:
            def on_sni(sock, name, ctx):
                with self.lock:
                    self.sni.append(name)
            tls.sni_callback = on_sni
        self.handler = handler or (lambda req: (200, {"Content-Type": "text/plain"}, f"hello from {self.name}".encode()))
        self.requests = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def close(self):
        self.running = False
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_line(f):
        line = f.readline(65537)
        return line

    def _serve(self, conn):
        conn.settimeout(30)
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                with self.lock:
                    self.tls_failures += 1
                conn.close()
                return
            with self.lock:
                self.peer_certs.append(conn.getpeercert())
        f = conn.makefile("rb")
        try:
            while True:
                line = self._read_line(f)
                if not line:
                    return
                method, path, _ = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
                headers = []
                while True:
                    h = self._read_line(f)
                    if h in (b"\r\n", b"\n", b""):
                        break
                    n, v = h.decode("latin-1").rstrip("\r\n").split(":", 1)
                    headers.append((n, v.strip()))
                hd = {n.lower(): v for n, v in headers}
                body = b""
                if "content-length" in hd:
                    body = f.read(int(hd["content-length"]))
                elif hd.get("transfer-encoding", "").lower() == "chunked":
                    parts = []
                    while True:
                        size = int(self._read_line(f).split(b";")[0], 16)
                        if size == 0:
                            while self._read_line(f) not in (b"\r\n", b"\n", b""):
                                pass
                            break
                        parts.append(f.read(size))
                        f.read(2)
                    body = b"".join(parts)
                req = {"method": method, "path": path, "headers": headers, "h": hd, "body": body}
                with self.lock:
                    self.requests.append(req)
                if not self.respond(conn, req):
                    return
                if hd.get("connection", "").lower() == "close":
                    return
        except (OSError, ValueError):
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def respond(self, conn, req):
        result = self.handler(req)
        if result == "close":  # abrupt close without a response
            return False
        status, headers, body = result
        if callable(body):  # a generator of chunks: send chunked
            head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            conn.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
            for chunk in body():
                if chunk:
                    conn.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            conn.sendall(b"0\r\n\r\n")
            return True
        if req["method"] == "HEAD":
            payload = b""
        else:
            payload = body
        head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        if status not in (204, 304) and "Content-Length" not in headers:
            head += f"Content-Length: {len(body)}\r\n"
        conn.sendall(head.encode() + b"\r\n" + (payload if status not in (204, 304) else b""))
        return True

    def count(self):
        with self.lock:
            return len(self.requests)


def metric(admin_port, name, labels=None, timeout=5):
    """Sum of a Prometheus metric's samples (whose labels include `labels`)."""
    _, _, body = http(admin_port, "GET", "/metrics", timeout=timeout)
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        key, value = line.rsplit(" ", 1)
        if key != name and not key.startswith(name + "{"):
            continue
        if labels and not all(f'{k}="{v}"' in key for k, v in labels.items()):
            continue
        total += float(value)
    return total


def wait_metric(admin_port, name, labels=None, at_least=1, timeout=5.0):
    """The metric once it reaches `at_least` (or its value at the deadline): a worker
    counts a request after writing its response, so a client can ask first."""
    deadline = time.time() + timeout
    while True:
        v = metric(admin_port, name, labels)
        if v >= at_least or time.time() >= deadline:
            return v
        time.sleep(0.02)
