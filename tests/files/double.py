# The files API tests' program (every front end runs it): reads the
# uploaded /tmp/in.csv, writes /tmp/out.csv with column n doubled.
import csv

rows = list(csv.DictReader(open("/tmp/in.csv")))
with open("/tmp/out.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["name", "n"])
    for r in rows:
        w.writerow([r["name"], int(r["n"]) * 2])
print(len(rows))
