#!/usr/bin/env python3
# loadgen.py - the steady load of tests/scale/run (open model, fixed rate).
#
#   loadgen.py URL OUT.csv SECONDS TAG
#
# Environment: DEMO_API_KEY, DEMO_PAGE_ID, DEMO_APP_SECRET (var/demo.env),
# SCALE_RATE_HEALTH, SCALE_RATE_API, SCALE_RATE_WEBHOOK (requests/s each).
# Three streams at a fixed rate each, started on schedule whatever the
# answers take (a slow or failing backend does not slow the load down, so
# the errors of a failover are counted, not hidden): GET /health, GET
# /v1/auth/me with the demo API key (authentication reads PostgreSQL and
# Redis), and POST /webhooks/messenger, a signed Messenger event with a
# message id of its own (msc_TAG_N).  One CSV line per request:
# kind,start,end,status,mid (status 0: no HTTP answer).
# Stops after SECONDS or when the file OUT.csv.stop appears.
import hashlib, hmac, http.client, json, os, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

url, out_path, seconds, tag = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
u = urlsplit(url)
api_key = os.environ["DEMO_API_KEY"]
page = os.environ["DEMO_PAGE_ID"]
secret = os.environ["DEMO_APP_SECRET"].encode()
rates = {"health": float(os.environ.get("SCALE_RATE_HEALTH", "20")),
         "api": float(os.environ.get("SCALE_RATE_API", "15")),
         "webhook": float(os.environ.get("SCALE_RATE_WEBHOOK", "20"))}
texts = ["hello", "สวัสดีครับ", "what documents do I need for GACP?",
         "ค่าธรรมเนียมเท่าไหร่คะ", "how much does GACP certification cost?"]

local = threading.local()
lock = threading.Lock()
out = open(out_path, "w", buffering=1)
out.write("kind,start,end,status,mid\n")


def conn():
    c = getattr(local, "c", None)
    if c is None:
        c = local.c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    return c


def request(kind, n):
    mid = ""
    headers = {}
    body = None
    if kind == "health":
        method, path = "GET", "/health"
    elif kind == "api":
        method, path = "GET", "/v1/auth/me"
        headers["X-API-Key"] = api_key
    else:
        method, path = "POST", "/webhooks/messenger"
        mid = "msc_%s_%d" % (tag, n)
        now = int(time.time() * 1000)
        psid = str(7100000000000000 + n % 500)   # 500 customers talking
        ev = {"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": now,
              "message": {"mid": mid, "text": texts[n % len(texts)]}}
        body = json.dumps({"object": "page", "entry": [{"id": page, "time": now, "messaging": [ev]}]},
                          ensure_ascii=False, separators=(",", ":")).encode()
        headers["Content-Type"] = "application/json"
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    t0 = time.time()
    status = 0
    try:
        c = conn()
        c.request(method, path, body, headers)
        r = c.getresponse()
        r.read()
        status = r.status
        if r.getheader("Connection", "").lower() == "close":
            c.close()
            local.c = None
    except (OSError, http.client.HTTPException):
        try:
            local.c.close()
        except Exception:
            pass
        local.c = None
    t1 = time.time()
    with lock:
        out.write("%s,%.6f,%.6f,%d,%s\n" % (kind, t0, t1, status, mid))


def main():
    pool = ThreadPoolExecutor(max_workers=48)
    start = time.time() + 0.2
    next_due = {k: start for k in rates if rates[k] > 0}
    count = {k: 0 for k in rates}
    stop_file = out_path + ".stop"
    while True:
        now = time.time()
        if now - start > seconds or os.path.exists(stop_file):
            break
        kind = min(next_due, key=next_due.get)
        due = next_due[kind]
        if due > now:
            time.sleep(min(due - now, 0.05))
            continue
        pool.submit(request, kind, count[kind])
        count[kind] += 1
        next_due[kind] = due + 1.0 / rates[kind]
    pool.shutdown(wait=True)
    out.close()


main()
