"""Access records and WAF events shipped to object stores through the real binary, with
real servers started here (installed by scripts/install-deps.sh): s3rver (S3, checks
SigV4 signatures) and Azurite (Azure Blob). Objects are listed and read back with
independent clients (boto3; the Azure REST API), decompressed, and every record the test
traffic made is found exactly once under the right partition keys. Fault tests: the S3
server stopped mid-run and restarted; rampart SIGKILLed with batches in its spool and
restarted; a full spool (drops counted exactly); wrong credentials fixed by a reload;
bad configuration."""

import gzip
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import unittest

import boto3
import zstandard
from botocore.config import Config

import azure_rest
from harness import Gateway, check_config, free_port, http, metric, wait_port

NPM_DIR = os.environ.get("RAMPART_NPM_DIR") or os.path.expanduser("~/.cache/rampart/npm")
S3RVER = os.path.join(NPM_DIR, "node_modules", ".bin", "s3rver")
AZURITE = os.path.join(NPM_DIR, "node_modules", ".bin", "azurite-blob")
HAVE_SERVERS = os.access(S3RVER, os.X_OK) and os.access(AZURITE, os.X_OK)
KEY_RE = re.compile(r"^(?:(?P<prefix>.+)/)?kind=(?P<kind>access|waf)/dt=(?P<dt>\d{4}-\d{2}-\d{2})/hour=(?P<hour>\d{2})/"
                    r"(?P<inst>[^/]+)-(?P<boot>\d+)-(?P<seq>\d{6})\.ndjson(?P<ext>\.zst|\.gz)?$")


class NodeServer:
    """A test server from the npm directory on a fixed port and data directory, so it can
    be stopped and started again; its output goes to DIR/server.log."""

    name = ""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"rampart-{self.name}-")
        self.log = os.path.join(self.dir, "server.log")
        self.proc = None

    def argv(self):
        raise NotImplementedError

    def start(self):
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT)
        assert wait_port(self.port, 20), f"{self.name} did not start"
        return self

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


class S3Server(NodeServer):
    """s3rver with a bucket "logs" (it logs every request, query string included)."""

    name = "s3rver"

    def argv(self):
        return [S3RVER, "-d", self.dir, "-a", "127.0.0.1", "-p", str(self.port), "--configure-bucket", "logs"]

    def objects(self, bucket="logs"):
        """{key: bytes} read back with boto3 (path-style, SigV4)."""
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{self.port}", aws_access_key_id="S3RVER",
                          aws_secret_access_key="S3RVER", region_name="us-east-1",
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}))
        out = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", []):
                out[o["Key"]] = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        s3.close()
        return out


class Azurite(NodeServer):
    name = "azurite"

    def argv(self):
        return [AZURITE, "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location", self.dir,
                "--silent", "--skipApiVersionCheck", "--disableTelemetry"]


def records(objects):
    """Decompressed records per object key: {key: [record, ...]}."""
    out = {}
    for key, body in objects.items():
        m = KEY_RE.match(key)
        assert m, f"object key {key} does not follow the partition layout"
        if m.group("ext") == ".zst":
            body = zstandard.ZstdDecompressor().decompressobj().decompress(body)
        elif m.group("ext") == ".gz":
            body = gzip.decompress(body)
        out[key] = [json.loads(line) for line in body.decode().splitlines() if line]
    return out


def read_tree(root):
    """{path relative to root: bytes} of every file below root (a local sink's objects)."""
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            with open(os.path.join(dirpath, n), "rb") as f:
                out[os.path.relpath(os.path.join(dirpath, n), root)] = f.read()
    return out


def check_partitions(test, recs):
    """Each record's time is within (or just before, for a batch that straddles an hour)
    its object's dt/hour partition."""
    for key, rs in recs.items():
        m = KEY_RE.match(key)
        for r in rs:
            t = r["time"]
            test.assertEqual(t[:10], m.group("dt"), key)
            test.assertLessEqual(abs(int(t[11:13]) - int(m.group("hour"))) % 23, 1, key)


SINK = """
  - name: {name}
    type: s3
    bucket: logs
    region: us-east-1
    endpoint: http://127.0.0.1:{s3}
    addressing: path
    access_key_id: {akid}
    secret_access_key: {secret}
    prefix: edge/
    instance: it
    streams: [access, waf]
    batch: {{ max_records: 50, max_age: 200ms }}
    spool: {{ path: "{spool}"{spool_extra} }}
"""

BASE = """
log: {{ access: {{ enabled: false }} }}
waf:
  rule_sets:
    mini:
      rules: |
        SecRule ARGS:x "@streq attack" "id:1001,phase:1,deny,status:403,log,msg:'test attack'"
listeners:
  - {{ name: main, listen: 127.0.0.1:{port}, waf: {{ rule_set: mini, mode: block }} }}
routes:
  - {{ name: ok, direct_response: {{ status: 200, body: ok }} }}
sinks:
"""


def esc(text):
    """A formatted block inside a Gateway template (formatted once more)."""
    return text.replace("{", "{{").replace("}", "}}")


def send(port, n, attack_every=0):
    """n requests; returns (access request ids, attack request ids)."""
    ids, attacks = [], []
    for i in range(n):
        attack = attack_every and i % attack_every == 0
        st, h, _ = http(port, "GET", f"/p{i}" + ("?x=attack" if attack else ""))
        assert st == (403 if attack else 200), st
        rid = h["x-request-id"]
        ids.append(rid)
        if attack:
            attacks.append(rid)
    return ids, attacks


def wait_shipped(gw, sink, expect, stream="access", timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if metric(gw.admin, "rampart_sink_records_shipped_total", {"sink": sink, "stream": stream}) >= expect:
            return True
        time.sleep(0.1)
    return False


@unittest.skipUnless(HAVE_SERVERS, "s3rver / azurite not installed (scripts/install-deps.sh)")
class S3SinkTest(unittest.TestCase):
    def setUp(self):
        self.s3 = S3Server().start()
        self.spool = tempfile.mkdtemp(prefix="rampart-spool-")

    def tearDown(self):
        self.s3.stop()

    def gateway(self, akid="S3RVER", secret="S3RVER", spool_extra=""):
        config = BASE + esc(SINK.format(name="s3", s3=self.s3.port, akid=akid, secret=secret, spool=self.spool,
                                        spool_extra=spool_extra))
        return Gateway(config)

    def test_every_record_exactly_once_with_partitions(self):
        with self.gateway() as gw:
            ids, attacks = send(gw.port, 230, attack_every=10)
            self.assertTrue(wait_shipped(gw, "s3", len(ids)))
            self.assertTrue(wait_shipped(gw, "s3", len(attacks), stream="waf"))
            self.assertGreater(metric(gw.admin, "rampart_sink_bytes_total"), 0)
            self.assertEqual(metric(gw.admin, "rampart_sink_spool_batches"), 0)
        recs = records(self.s3.objects())
        access = [r for k, rs in recs.items() if "/kind=access/" in k for r in rs]
        waf = [r for k, rs in recs.items() if "/kind=waf/" in k for r in rs]
        self.assertEqual(sorted(r["request_id"] for r in access), sorted(ids), "each access record exactly once")
        self.assertEqual(sorted(r["request_id"] for r in waf), sorted(attacks), "each WAF event exactly once")
        self.assertTrue(all(k.startswith("edge/kind=") and "/it-" in k for k in recs))
        self.assertTrue(all(max(len(rs), 1) <= 50 for rs in recs.values()), "batches of at most max_records")
        self.assertEqual({r["action"] for r in waf}, {"deny"})
        check_partitions(self, recs)

    def test_store_down_mid_run_then_back(self):
        with self.gateway() as gw:
            ids, _ = send(gw.port, 60)
            self.assertTrue(wait_shipped(gw, "s3", 60))
            self.s3.stop()
            more, _ = send(gw.port, 120)
            ids += more
            deadline = time.time() + 10
            while time.time() < deadline and metric(gw.admin, "rampart_sink_records_spooled_total") < 120:
                time.sleep(0.1)
            self.assertEqual(metric(gw.admin, "rampart_sink_records_spooled_total", {"stream": "access"}), 120)
            self.assertGreater(metric(gw.admin, "rampart_sink_errors_total", {"kind": "connect"}), 0)
            self.assertIn("upload to s3://logs", gw.output())
            self.s3.start()
            more, _ = send(gw.port, 30)
            ids += more
            self.assertTrue(wait_shipped(gw, "s3", len(ids), timeout=40), gw.output()[-2000:])
        recs = records(self.s3.objects())
        got = sorted(r["request_id"] for k, rs in recs.items() if "/kind=access/" in k for r in rs)
        self.assertEqual(got, sorted(ids), "every record arrived, none twice")

    def test_sigkill_then_restart_delivers_the_spool(self):
        self.s3.stop()
        gw = self.gateway().start()
        try:
            ids, attacks = send(gw.port, 140, attack_every=7)
            # Every record is in a spooled (fsynced) batch once its first upload failed.
            deadline = time.time() + 15
            while time.time() < deadline and (
                    metric(gw.admin, "rampart_sink_records_spooled_total", {"stream": "access"}) < len(ids) or
                    metric(gw.admin, "rampart_sink_records_spooled_total", {"stream": "waf"}) < len(attacks)):
                time.sleep(0.1)
            self.assertEqual(metric(gw.admin, "rampart_sink_records_spooled_total", {"stream": "access"}), len(ids))
            gw.proc.send_signal(signal.SIGKILL)
            gw.proc.wait(10)
        finally:
            gw.stop()
        self.assertTrue([f for f in os.listdir(self.spool) if f.endswith(".batch")])
        self.s3.start()
        with self.gateway() as gw2:
            self.assertTrue(wait_shipped(gw2, "s3", len(ids), timeout=30), gw2.output()[-2000:])
            self.assertTrue(wait_shipped(gw2, "s3", len(attacks), stream="waf"))
            self.assertIn("found in the spool", gw2.output())
        recs = records(self.s3.objects())
        got = sorted(r["request_id"] for k, rs in recs.items() if "/kind=access/" in k for r in rs)
        self.assertEqual(got, sorted(ids))
        self.assertEqual(sorted(r["request_id"] for k, rs in recs.items() if "/kind=waf/" in k for r in rs),
                         sorted(attacks))
        self.assertEqual([f for f in os.listdir(self.spool) if f.endswith(".batch")], [])

    def test_full_spool_drops_are_counted_exactly(self):
        self.s3.stop()
        with self.gateway(spool_extra=", max_bytes: 4KiB") as gw:
            ids, _ = send(gw.port, 600)
            deadline = time.time() + 15
            while time.time() < deadline:
                spooled = metric(gw.admin, "rampart_sink_records_spooled_total", {"stream": "access"})
                dropped = metric(gw.admin, "rampart_sink_records_dropped_total", {"stream": "access"})
                if spooled + dropped >= len(ids):
                    break
                time.sleep(0.1)
            self.assertGreater(dropped, 0, "the spool filled up")
            self.assertLessEqual(metric(gw.admin, "rampart_sink_spool_bytes"), 4096)
            self.s3.start()
            self.assertTrue(wait_shipped(gw, "s3", spooled, timeout=40))
            time.sleep(0.5)
            self.assertIn("dropped since the last report", gw.output())
        recs = records(self.s3.objects())
        got = [r["request_id"] for k, rs in recs.items() if "/kind=access/" in k for r in rs]
        self.assertEqual(len(got), len(set(got)))
        self.assertTrue(set(got) <= set(ids))
        self.assertEqual(len(ids) - len(got), dropped, "the drop counter equals the records missing")

    def test_large_batch_goes_up_in_parts(self):
        config = BASE + esc(f"""
  - name: big
    type: s3
    bucket: logs
    endpoint: http://127.0.0.1:{self.s3.port}
    addressing: path
    access_key_id: S3RVER
    secret_access_key: S3RVER
    compression: none
    multipart: {{ threshold: 6MiB, part_size: 5MiB }}
    batch: {{ max_bytes: 64MiB, max_age: 1h }}
    spool: {{ path: "{self.spool}" }}
""")
        gw = Gateway(config).start()
        ids = []
        try:
            pad = "a" * 7000
            for i in range(1000):
                st, h, _ = http(gw.port, "GET", f"/{pad}?i={i}")
                ids.append(h["x-request-id"])
            deadline = time.time() + 10
            while time.time() < deadline and metric(gw.admin, "rampart_sink_records_enqueued_total") < len(ids):
                time.sleep(0.1)
        finally:
            gw.stop()  # the last batch is cut and uploaded at exit
        objs = self.s3.objects()
        self.assertEqual(len(objs), 1, list(objs))
        body = next(iter(objs.values()))
        self.assertGreater(len(body), 6 << 20)
        with open(self.s3.log, errors="replace") as f:
            log = f.read()
        self.assertIn("partNumber=2", log, "a 2-part upload")
        got = [r["request_id"] for rs in records(objs).values() for r in rs]
        self.assertEqual(sorted(got), sorted(ids))

    def test_wrong_credentials_then_reload(self):
        # s3rver answers an unknown key id 403 (it does not check SigV4 signatures
        # themselves: SigV4Test does, with botocore).
        gw = self.gateway(akid="NOPE", secret="TOPSECRET-4711").start()
        try:
            ids, _ = send(gw.port, 80)
            deadline = time.time() + 10
            while time.time() < deadline and metric(gw.admin, "rampart_sink_errors_total", {"kind": "auth"}) == 0:
                time.sleep(0.1)
            self.assertGreater(metric(gw.admin, "rampart_sink_errors_total", {"kind": "auth"}), 0)
            self.assertIn("InvalidAccessKeyId", gw.output())
            self.assertNotIn("TOPSECRET", gw.output(), "the secret is never logged")
            self.assertEqual(metric(gw.admin, "rampart_sink_records_shipped_total"), 0)
            _, _, body = http(gw.admin, "GET", "/config")
            self.assertNotIn(b"TOPSECRET", body)
            gw.write(BASE + esc(SINK.format(name="s3", s3=self.s3.port, akid="S3RVER", secret="S3RVER",
                                            spool=self.spool, spool_extra="")))
            gw.signal(signal.SIGHUP)
            self.assertTrue(wait_shipped(gw, "s3", len(ids), timeout=30), gw.output()[-2000:])
        finally:
            gw.stop()
        recs = records(self.s3.objects())
        got = sorted(r["request_id"] for k, rs in recs.items() if "/kind=access/" in k for r in rs)
        self.assertEqual(got, sorted(ids))


class Capture:
    """An HTTP server that records requests and answers like S3 (the stand-in of SigV4Test)."""

    def __init__(self):
        import http.server
        import threading
        self.requests = []
        self.peers = []  # each request's client port: one per connection
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self, body=b""):
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append((self.command, self.path, list(self.headers.items()), data))
                outer.peers.append(self.client_address[1])
                self.send_response(200)
                self.send_header("ETag", '"etag%d"' % len(outer.requests))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):
                self.answer()

            def do_POST(self):
                if self.path.endswith("?uploads="):
                    self.answer(b"<InitiateMultipartUploadResult><UploadId>up/1+2</UploadId>"
                                b"</InitiateMultipartUploadResult>")
                else:
                    self.answer(b"<CompleteMultipartUploadResult></CompleteMultipartUploadResult>")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SigV4Test(unittest.TestCase):
    """rampart's S3 requests carry the AWS Signature V4 that botocore computes for the
    same request and secret (s3rver accepts any V4 signature of a known key id)."""

    SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

    def config(self, port, extra=""):
        return BASE + esc(f"""
  - name: s3
    type: s3
    bucket: logs
    region: eu-west-3
    endpoint: http://127.0.0.1:{port}
    addressing: path
    access_key_id: AKIDEXAMPLE
    secret_access_key: {self.SECRET}
    session_token: TOKEN123
    spool: {{ path: "{tempfile.mkdtemp()}" }}
{extra}""")

    def verify(self, port, request):
        """The request's signature is the one botocore computes for it."""
        import hashlib
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        method, path, headers, body = request
        h = {k.lower(): v for k, v in headers}
        auth = h["authorization"]
        m = re.match(r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/(\d{8})/eu-west-3/s3/aws4_request, "
                     r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$", auth)
        self.assertTrue(m, auth)
        signed = m.group(2).split(";")
        for need in ("host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"):
            self.assertIn(need, signed)
        self.assertEqual(h["x-amz-content-sha256"], hashlib.sha256(body).hexdigest())
        req = AWSRequest(method=method, url=f"http://127.0.0.1:{port}{path}", data=body,
                         headers={k: h[k] for k in signed})
        req.context["timestamp"] = h["x-amz-date"]
        signer = S3SigV4Auth(Credentials("AKIDEXAMPLE", self.SECRET, "TOKEN123"), "s3", "eu-west-3")
        canonical = signer.canonical_request(req)
        self.assertEqual(m.group(3), signer.signature(signer.string_to_sign(req, canonical), req),
                         f"{method} {path}\n{canonical}")

    def test_put_object_signature_matches_botocore(self):
        cap = Capture()
        try:
            with Gateway(self.config(cap.port, "    batch: { max_age: 100ms }")) as gw:
                send(gw.port, 3)
                deadline = time.time() + 10
                while time.time() < deadline and not cap.requests:
                    time.sleep(0.05)
            self.assertTrue(cap.requests)
            method, path, _, _ = cap.requests[0]
            self.assertEqual(method, "PUT")
            self.assertTrue(path.startswith("/logs/kind%3Daccess/dt%3D"), path)
            self.verify(cap.port, cap.requests[0])
        finally:
            cap.close()

    def test_multipart_signatures_match_botocore(self):
        cap = Capture()
        try:
            gw = Gateway(self.config(cap.port, "    compression: none\n"
                                               "    multipart: { threshold: 6MiB, part_size: 5MiB }\n"
                                               "    batch: { max_bytes: 64MiB, max_age: 1h }")).start()
            try:
                pad = "b" * 7000
                for i in range(1000):
                    http(gw.port, "GET", f"/{pad}?i={i}")
                deadline = time.time() + 10
                while time.time() < deadline and metric(gw.admin, "rampart_sink_records_enqueued_total") < 1000:
                    time.sleep(0.1)
            finally:
                gw.stop()
            kinds = [(m, p.split("?", 1)[1].split("=")[0]) for m, p, _, _ in cap.requests]
            self.assertEqual(kinds, [("POST", "uploads"), ("PUT", "partNumber"), ("PUT", "partNumber"),
                                     ("POST", "uploadId")])
            self.assertIn("uploadId=up%2F1%2B2", cap.requests[1][1])
            self.assertIn(b"<ETag>\"etag2\"</ETag>", cap.requests[3][3])
            # The store keeps its connection: the four requests come over one.
            self.assertEqual(len(set(cap.peers)), 1, cap.peers)
            for r in cap.requests:
                self.verify(cap.port, r)
        finally:
            cap.close()


AZURE = """
  - name: az
    type: azure
    account: devstoreaccount1
    container: logs
    endpoint: http://127.0.0.1:{az}/devstoreaccount1
    shared_key: "{key}"
    compression: gzip
    filter: {{ min_status: 400 }}
    batch: {{ max_age: 200ms }}
    spool: {{ path: "{spool}" }}
  - name: local
    type: local
    path: "{local}"
    compression: none
    sample: 0.5
    retention: {{ max_files: 1000 }}
    streams: [access]
    batch: {{ max_age: 200ms }}
    spool: {{ path: "{spool2}" }}
  - name: ocsf
    type: local
    path: "{local2}"
    format: ocsf
    compression: gzip
    streams: [waf]
    batch: {{ max_age: 200ms }}
    spool: {{ path: "{spool3}" }}
"""


@unittest.skipUnless(HAVE_SERVERS, "s3rver / azurite not installed (scripts/install-deps.sh)")
class AzureAndLocalSinkTest(unittest.TestCase):
    def test_azure_blob_filtered_and_local_sampled(self):
        az = Azurite().start()
        try:
            azure_rest.create_container(az.port, "logs")
            local = tempfile.mkdtemp(prefix="rampart-local-")
            local2 = tempfile.mkdtemp(prefix="rampart-ocsf-")
            config = BASE + esc(AZURE.format(az=az.port, key=azure_rest.KEY, spool=tempfile.mkdtemp(),
                                             spool2=tempfile.mkdtemp(), local=local, local2=local2,
                                             spool3=tempfile.mkdtemp()))
            with Gateway(config) as gw:
                ids, attacks = send(gw.port, 100, attack_every=5)
                self.assertTrue(wait_shipped(gw, "az", len(attacks)))
                self.assertTrue(wait_shipped(gw, "az", len(attacks), stream="waf"))
                self.assertTrue(wait_shipped(gw, "local", 50))
                self.assertTrue(wait_shipped(gw, "ocsf", len(attacks), stream="waf"))
                self.assertEqual(metric(gw.admin, "rampart_sink_records_filtered_total", {"sink": "az"}), 80)
            blobs = {name: azure_rest.get_blob(az.port, "logs", name) for name in azure_rest.list_blobs(az.port, "logs")}
            recs = records(blobs)
            check_partitions(self, recs)
            access = sorted(r["request_id"] for k, rs in recs.items() if "/kind=access/" in k or
                            k.startswith("kind=access/") for r in rs)
            self.assertEqual(access, sorted(attacks), "only status >= 400, each once")
            got = [r["request_id"] for rs in records(read_tree(local)).values() for r in rs]
            self.assertEqual(len(got), 50, "sample: 0.5 keeps every second record")
            self.assertTrue(set(got) <= set(ids))
            # format: ocsf: the WAF events as OCSF HTTP Activity.
            events = [r for rs in records(read_tree(local2)).values() for r in rs]
            self.assertEqual(sorted(ev["http_request"]["uid"] for ev in events), sorted(attacks))
            for ev in events:
                self.assertEqual((ev["class_uid"], ev["category_uid"], ev["activity_id"]), (4002, 4, 3))
                self.assertEqual((ev["disposition"], ev["action"]), ("Blocked", "Denied"))
                self.assertEqual(ev["firewall_rule"]["uid"], "1001")
                self.assertEqual(ev["http_response"]["code"], 403)
                self.assertEqual(ev["src_endpoint"]["ip"], "127.0.0.1")
                self.assertEqual(ev["unmapped"]["type"], "waf")
        finally:
            az.stop()


@unittest.skipUnless(HAVE_SERVERS, "s3rver / azurite not installed (scripts/install-deps.sh)")
class AzureSasTest(unittest.TestCase):
    def test_sas_token(self):
        az = Azurite().start()
        try:
            azure_rest.create_container(az.port, "sas")
            config = BASE + esc(f"""
  - name: az
    type: azure
    account: devstoreaccount1
    container: sas
    endpoint: http://127.0.0.1:{az.port}/devstoreaccount1
    sas_token: "?{azure_rest.account_sas()}"
    streams: [access]
    batch: {{ max_age: 200ms }}
    spool: {{ path: "{tempfile.mkdtemp()}" }}
""")
            with Gateway(config) as gw:
                ids, _ = send(gw.port, 30)
                self.assertTrue(wait_shipped(gw, "az", 30), gw.output()[-1500:])
            blobs = {n: azure_rest.get_blob(az.port, "sas", n) for n in azure_rest.list_blobs(az.port, "sas")}
            got = sorted(r["request_id"] for rs in records(blobs).values() for r in rs)
            self.assertEqual(got, sorted(ids))
        finally:
            az.stop()


class SinkConfigTest(unittest.TestCase):
    def check(self, text):
        return check_config("listeners: [{ name: m, listen: 127.0.0.1:1 }]\n"
                            "routes: [{ name: r, direct_response: { status: 200 } }]\nsinks:\n" + text, home=True)

    def test_errors_name_the_line(self):
        spool = tempfile.mkdtemp()
        ro = tempfile.mkdtemp()
        os.chmod(ro, 0o500)
        cases = [
            (f'  - {{ name: a, type: ftp, spool: {{ path: "{spool}" }} }}\n', "type must be local, s3 or azure"),
            (f'  - {{ name: a, type: s3, access_key_id: k, secret_access_key: s, spool: {{ path: "{spool}" }} }}\n',
             "needs a bucket"),
            (f'  - {{ name: a, type: s3, bucket: b, credentials_file: /nonexistent/creds, '
             f'spool: {{ path: "{spool}" }} }}\n', "credentials file /nonexistent/creds"),
            (f'  - {{ name: a, type: s3, bucket: b, spool: {{ path: "{spool}" }} }}\n', "has no credentials"),
            ('  - { name: a, type: local, path: /tmp/x }\n', "needs spool.path"),
            (f'  - {{ name: a, type: local, path: /tmp/x, compression: lz4, spool: {{ path: "{spool}" }} }}\n',
             "compression must be"),
            (f'  - {{ name: a, type: azure, account: x, container: c, spool: {{ path: "{spool}" }} }}\n',
             "exactly one of shared_key and sas_token"),
            (f'  - {{ name: a, type: local, path: /tmp/x, bucket: b, spool: {{ path: "{spool}" }} }}\n',
             "bucket is for s3 sinks"),
            (f'  - {{ name: a, type: local, path: /tmp/x, instance: "a/b", spool: {{ path: "{spool}" }} }}\n',
             "sinks.instance may hold"),
        ]
        if os.geteuid() != 0:  # root writes anywhere
            cases.append((f'  - {{ name: a, type: local, path: /tmp/x, spool: {{ path: "{ro}/s" }} }}\n',
                          "is not writable"))
        for text, msg in cases:
            rc, out, path = self.check(text)
            with self.subTest(msg=msg):
                self.assertEqual(rc, 1, out)
                self.assertIn(f"{path}:4:", out)
                self.assertIn(msg, out)
        rc, out, path = self.check(f'  - {{ name: a, type: local, path: /tmp/x, spool: {{ path: "{spool}" }} }}\n'
                                   f'  - {{ name: b, type: local, path: /tmp/y, spool: {{ path: "{spool}" }} }}\n')
        self.assertEqual(rc, 1)
        self.assertIn(f"{path}:5:", out)
        self.assertIn("share the spool", out)
        creds = os.path.join(spool, "credentials")
        with open(creds, "w") as f:
            f.write("[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n")
        rc, out, _ = self.check(f'  - {{ name: a, type: s3, bucket: b, credentials_file: "{creds}", '
                                f'spool: {{ path: "{spool}" }} }}\n')
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    unittest.main()
