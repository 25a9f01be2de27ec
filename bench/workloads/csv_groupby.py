"""Workload csv_groupby: parse ~50k CSV lines with `csv`, group with dicts,
sort (a pure-Python data-processing job)."""

import csv
import io
import random

_rng = random.Random(7)
_CITIES = ["Lyon", "Oslo", "Lima", "Pune", "Kobe", "Turin", "Accra", "Quito"]
_buf = io.StringIO()
_w = csv.writer(_buf)
_w.writerow(["id", "city", "amount", "qty"])
for _i in range(50_000):
    _w.writerow([_i, _rng.choice(_CITIES), "%.2f" % (_rng.random() * 500), _rng.randint(1, 9)])
TEXT = _buf.getvalue()


def run():
    totals = {}
    for row in csv.DictReader(io.StringIO(TEXT)):
        city = row["city"]
        amount = float(row["amount"]) * int(row["qty"])
        entry = totals.get(city)
        if entry is None:
            totals[city] = [amount, 1]
        else:
            entry[0] += amount
            entry[1] += 1
    ranked = sorted(totals.items(), key=lambda kv: kv[1][0], reverse=True)
    assert len(ranked) == len(_CITIES) and sum(c for _, (_, c) in ranked) == 50_000
