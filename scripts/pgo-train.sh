#!/usr/bin/env bash
# The training run of a profile-guided build (scripts/build.sh): runs an
# instrumented rampart over the work it is built for, so that its counts (in
# the directory the binary was built to write them to) say which code is hot.
#   scripts/pgo-train.sh BINARY
# 1. `waf inspect` over a generated corpus (bench/gen_corpus.py: benign GETs,
#    forms, JSON, uploads and attacks) at paranoia levels 1 and 2, and one
#    browser GET repeated with the value memo kept, as a gateway sees it;
# 2. the gateway on loopback under load (wrk): keep-alive GETs and form POSTs
#    through a listener with the rules and one without, to a second rampart
#    answering directly.
# The rules are OWASP CRS when a checkout is found (RAMPART_CRS_DIR, else
# ../shared/crs beside the project), else a small set of our own. Every loop
# is bounded in count and time; servers bind to 127.0.0.1 only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$1
[ -x "$bin" ] || { echo "pgo-train: no binary at $bin" >&2; exit 1; }
work=$(mktemp -d /tmp/rampart-pgo.XXXXXX)
backend_pid="" gw=""
cleanup() {
  for p in $backend_pid $gw; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "pgo-train: failed at line $LINENO" >&2' ERR

crs=${RAMPART_CRS_DIR:-$root/../shared/crs}
if [ -d "$crs/rules" ] && ls "$crs"/rules/*.conf >/dev/null 2>&1; then
  setup="$crs/crs-setup.conf.example"
  [ -f "$crs/crs-setup.conf" ] && setup="$crs/crs-setup.conf"
  rules=("$setup" "$crs/rules/*.conf")
  echo "pgo-train: rules: OWASP CRS in $crs"
else
  cat > "$work/rules.conf" <<'RULES'
SecRequestBodyAccess On
SecAction "id:900000,phase:1,pass,nolog,setvar:tx.inbound_anomaly_score_threshold=5,setvar:tx.anomaly_score=0"
SecRule REQUEST_METHOD "!@within GET HEAD POST OPTIONS" "id:911100,phase:1,block,t:none,setvar:tx.anomaly_score=+5"
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" "id:900010,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_FILENAME|ARGS_NAMES|ARGS "@rx (?i)(?:\.\./|/etc/passwd|\bunion\b.{1,100}?\bselect\b)" \
    "id:930100,phase:2,block,t:none,t:urlDecodeUni,t:lowercase,setvar:tx.anomaly_score=+5"
SecRule ARGS|ARGS_NAMES|REQUEST_COOKIES|REQUEST_HEADERS:User-Agent|REQUEST_HEADERS:Referer "@detectSQLi" \
    "id:942100,phase:2,block,capture,t:none,t:urlDecodeUni,setvar:tx.anomaly_score=+5"
SecRule ARGS|ARGS_NAMES|REQUEST_COOKIES|REQUEST_HEADERS:User-Agent "@detectXSS" \
    "id:941100,phase:2,block,t:none,t:urlDecodeUni,t:htmlEntityDecode,setvar:tx.anomaly_score=+5"
SecRule ARGS "@pm <script onerror= javascript: eval(" "id:941110,phase:2,block,t:none,t:lowercase,setvar:tx.anomaly_score=+5"
SecRule TX:ANOMALY_SCORE "@ge %{tx.inbound_anomaly_score_threshold}" "id:949110,phase:2,deny,status:403,t:none"
RULES
  rules=("$work/rules.conf")
  echo "pgo-train: rules: no OWASP CRS found (RAMPART_CRS_DIR), a small set of our own"
fi

# 1. The engine, in process.
python3 "$root/bench/gen_corpus.py" --seed 7 --count 2000 --out "$work/corpus.jsonl" >/dev/null
grep -m 1 '"benign/get"' "$work/corpus.jsonl" > "$work/get.jsonl"
for pl in 1 2; do
  "$bin" waf inspect --rules "${rules[@]}" --corpus "$work/corpus.jsonl" --bench --passes 2 --paranoia $pl >/dev/null
done
"$bin" waf inspect --rules "${rules[@]}" --corpus "$work/get.jsonl" --bench --passes 2000 --memo warm --paranoia 1 >/dev/null
echo "pgo-train: waf inspect done"

# 2. The gateway.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 300); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "pgo-train: nothing listens on $1" >&2; return 1
}
backend=$(free_port)
cat > "$work/backend.yaml" <<YAML
workers: 1
log: { level: warn, access: { enabled: false } }
admin: { listen: "127.0.0.1:$(free_port)" }
listeners: [ { name: main, listen: ["127.0.0.1:$backend"] } ]
routes: [ { name: ok, match: { path: { prefix: "/" } }, direct_response: { status: 200, body: "ok\n" } } ]
YAML
"$bin" run -c "$work/backend.yaml" >"$work/backend.log" 2>&1 & backend_pid=$!
wait_port "$backend"
quoted=$(printf '"%s", ' "${rules[@]}")
# A browser's GET and a form POST.
headers='wrk.headers["Host"] = "shop.example.com"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
wrk.headers["Accept-Language"] = "en-US,en;q=0.9"
wrk.headers["Accept-Encoding"] = "gzip, deflate, br"
wrk.headers["Referer"] = "https://shop.example.com/category/shoes?page=2"
wrk.headers["Cookie"] = "sessionid=k3J9xQ2mZp7LwT4vB8nR1cY6hF0sD5aE; theme=light"'
printf '%s\nwrk.method = "GET"\nwrk.path = "/products/leather-running-shoes-48213?color=black&size=42&ref=newsletter"\n' \
  "$headers" > "$work/get.lua"
printf '%s\nwrk.method = "POST"\nwrk.path = "/contact"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\nwrk.body = "%s"\n' \
  "$headers" "name=Chloe+O%27Neill&email=chloe%40example.com&subject=Question&message=$(printf 'Hello+there%%2C+thanks%.0s' $(seq 40))" \
  > "$work/post.lua"
for waf in on off; do
  port=$(free_port)
  listener_waf=""; [ $waf = on ] && listener_waf=", waf: { rule_set: train, mode: block }"
  cat > "$work/gateway.yaml" <<YAML
workers: 1
log: { level: warn, access: { enabled: false } }
admin: { listen: "127.0.0.1:$(free_port)" }
waf:
  rule_sets:
    train: { files: [${quoted%, }], paranoia_level: 1 }
listeners: [ { name: main, listen: ["127.0.0.1:$port"]$listener_waf } ]
routes: [ { name: app, match: { path: { prefix: "/" } }, pool: app } ]
pools: [ { name: app, endpoints: [ { address: "127.0.0.1:$backend" } ] } ]
YAML
  "$bin" run -c "$work/gateway.yaml" >"$work/gateway.log" 2>&1 & gw=$!
  wait_port "$port"
  # Most of the counts come from here: a gateway's traffic under load (wrk,
  # 32 connections), not the corpus's attacks.
  for run in "get 32 $([ $waf = on ] && echo 4 || echo 2)" "post 32 $([ $waf = on ] && echo 2 || echo 1)" "get 1 1"; do
    read -r req conns secs <<< "$run"
    out=$(wrk -t1 -c"$conns" -d"${secs}s" -s "$work/$req.lua" "http://127.0.0.1:$port" 2>&1)
    if ! grep -q "requests in" <<< "$out" || grep -q -e "Non-2xx" -e "Socket errors" <<< "$out"; then
      echo "pgo-train: the training's $req went wrong: $out" >&2; exit 1
    fi
    echo "pgo-train: waf $waf, $req on $conns connection(s): $(grep -o '[0-9]* requests in' <<< "$out")"
  done
  # SIGTERM: the gateway drains and exits, writing its counts.
  kill -TERM $gw; wait $gw || { echo "pgo-train: the gateway exited with $?" >&2; exit 1; }
  gw=""
done
kill -TERM $backend_pid; wait $backend_pid || { echo "pgo-train: the backend exited with $?" >&2; exit 1; }
backend_pid=""
