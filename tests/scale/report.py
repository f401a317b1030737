#!/usr/bin/env python3
# report.py - figures and verdict of tests/scale/run.
#
#   report.py LOAD.csv PHASES PROCESSED BOUNDS
#
# PHASES: "name epoch" per line, in order: the first is the baseline, each
# later one the moment a fault was injected.  PROCESSED: the message ids of
# the inbound messages found in PostgreSQL.  BOUNDS: "name seconds" per
# failover phase.  Prints one line per phase and "PASS name"/"FAIL name
# why" lines for tests/scale/run to count; exits 0.
import csv, sys

load, phases_path, processed_path, bounds_path = sys.argv[1:5]
phases = [(l.split()[0], float(l.split()[1])) for l in open(phases_path) if l.strip()]
bounds = {l.split()[0]: float(l.split()[1]) for l in open(bounds_path) if l.strip()}
processed = set(l.strip() for l in open(processed_path) if l.strip())
rows = list(csv.DictReader(open(load)))


def phase_of(t):
    name = phases[0][0]
    for n, start in phases:
        if t >= start:
            name = n
    return name


stats = {n: {"sent": 0, "ok": 0, "err": 0, "by_status": {}, "first_err": None,
             "last_err": None} for n, _ in phases}
acked = []
for r in rows:
    t0, t1, status = float(r["start"]), float(r["end"]), int(r["status"])
    s = stats[phase_of(t0)]
    s["sent"] += 1
    if 200 <= status < 300:
        s["ok"] += 1
        if r["kind"] == "webhook":
            acked.append(r["mid"])
    else:
        s["err"] += 1
        key = "%s:%s" % (r["kind"], status if status else "no-answer")
        s["by_status"][key] = s["by_status"].get(key, 0) + 1
        s["first_err"] = t0 if s["first_err"] is None else min(s["first_err"], t0)
        s["last_err"] = t1 if s["last_err"] is None else max(s["last_err"], t1)

lost = [m for m in acked if m not in processed]
total = sum(s["sent"] for s in stats.values())
print("requests sent %d, answered 2xx %d, non-2xx or no answer %d" %
      (total, sum(s["ok"] for s in stats.values()), sum(s["err"] for s in stats.values())))
print("webhook events acknowledged (200) %d, processed (in PostgreSQL) %d, lost %d" %
      (len(acked), len([m for m in acked if m in processed]), len(lost)))
if lost:
    print("lost message ids (first 10): %s" % " ".join(lost[:10]))
print("%-10s %7s %7s %7s %10s  %s" % ("phase", "sent", "2xx", "errors", "recovery_s", "errors by kind:status"))
verdicts = []
for name, start in phases:
    s = stats[name]
    if name in bounds:
        rec = 0.0 if s["last_err"] is None else max(0.0, s["last_err"] - start)
        rec_s = "%.2f" % rec
        if rec <= bounds[name]:
            verdicts.append("PASS %s recovered in %.2f s (bound %.0f s)" % (name, rec, bounds[name]))
        else:
            verdicts.append("FAIL %s recovered in %.2f s, over the bound of %.0f s" % (name, rec, bounds[name]))
        # Serving again at the end of the phase: the last requests are 2xx.
    else:
        rec_s = "-"
        if s["err"]:
            verdicts.append("FAIL %s: %d errors before any fault" % (name, s["err"]))
        else:
            verdicts.append("PASS %s: no errors before any fault" % name)
    print("%-10s %7d %7d %7d %10s  %s" % (name, s["sent"], s["ok"], s["err"], rec_s,
          " ".join("%s=%d" % kv for kv in sorted(s["by_status"].items())) or "-"))
if len(acked) == 0:
    verdicts.append("FAIL webhooks: none acknowledged")
elif lost:
    verdicts.append("FAIL webhooks: %d acknowledged events never processed" % len(lost))
else:
    verdicts.append("PASS webhooks: all %d acknowledged events processed" % len(acked))
for v in verdicts:
    print(v)
