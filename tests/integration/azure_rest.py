"""A minimal Azure Blob REST client for the tests (Shared Key), independent of rampart's:
create a container, list blobs, read a blob."""

import base64
import hashlib
import hmac
import http.client
import time
import urllib.parse
import xml.etree.ElementTree as ET
from email.utils import formatdate

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
VERSION = "2021-08-06"


def request(port, method, path, query=None, body=b"", account=ACCOUNT, key=KEY):
    """path: /ACCOUNT/container[/blob] (Azurite's path-style URLs)."""
    query = query or {}
    date = formatdate(time.time(), usegmt=True)
    headers = {"x-ms-date": date, "x-ms-version": VERSION}
    canon_headers = "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()))
    canon_res = f"/{account}{urllib.parse.quote(path)}" + "".join(
        f"\n{k.lower()}:{v}" for k, v in sorted(query.items()))
    length = str(len(body)) if body else ""
    sts = f"{method}\n\n\n{length}\n\n\n\n\n\n\n\n\n{canon_headers}{canon_res}"
    sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
    headers["Authorization"] = f"SharedKey {account}:{sig}"
    if body:
        headers["Content-Length"] = length
    url = urllib.parse.quote(path) + ("?" + urllib.parse.urlencode(query) if query else "")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, url, body=body or None, headers=headers)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def create_container(port, name):
    st, body = request(port, "PUT", f"/{ACCOUNT}/{name}", {"restype": "container"})
    assert st in (201, 409), (st, body)


def list_blobs(port, container):
    st, body = request(port, "GET", f"/{ACCOUNT}/{container}", {"restype": "container", "comp": "list"})
    assert st == 200, (st, body)
    return [e.text for e in ET.fromstring(body).iter("Name")]


def get_blob(port, container, name):
    st, body = request(port, "GET", f"/{ACCOUNT}/{container}/{name}")
    assert st == 200, (st, body)
    return body


def account_sas(permissions="rwdlac", expiry="2035-01-01T00:00:00Z", account=ACCOUNT, key=KEY):
    """An account SAS query string (blob service, all resource types) signed with the account key."""
    fields = [account, permissions, "b", "sco", "", expiry, "", "https,http", VERSION, ""]
    sts = "\n".join(fields) + "\n"
    sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
    return urllib.parse.urlencode({"sv": VERSION, "ss": "b", "srt": "sco", "sp": permissions, "se": expiry,
                                   "spr": "https,http", "sig": sig})
