"""A pandas analysis workflow, run both natively and in the sandbox by
scripts/data_stack/compare.py; the two outputs must be identical.

Reads a CSV from the scratch filesystem, aggregates, merges, pivots, works
with a time-zone-aware datetime index and writes CSV and JSON back.
"""

import io
import os
import tempfile

import numpy as np
import pandas as pd

work = tempfile.mkdtemp()
rng = np.random.default_rng(20261203)
n = 2000
regions = np.array(["north", "south", "east", "west"])
raw = pd.DataFrame({
    "when": pd.date_range("2026-03-28", periods=n, freq="37min"),
    "region": regions[rng.integers(0, 4, n)],
    "product": rng.choice(["apple", "pear", "plum"], n),
    "units": rng.integers(1, 50, n),
    "price": np.round(rng.uniform(0.5, 9.5, n), 2),
})
path = os.path.join(work, "sales.csv")
raw.to_csv(path, index=False)

df = pd.read_csv(path, parse_dates=["when"])
assert df.dtypes["when"].kind == "M", df.dtypes
df["revenue"] = df["units"] * df["price"]

by_region = df.groupby("region").agg(units=("units", "sum"), revenue=("revenue", "sum"),
                                     mean_price=("price", "mean"), orders=("units", "size"))
print(by_region.round(4).to_string())

managers = pd.DataFrame({"region": ["north", "south", "east", "west"],
                         "manager": ["Ada", "Grace", "Linus", "Guido"]})
merged = by_region.reset_index().merge(managers, on="region", how="left")
print(merged.sort_values("revenue", ascending=False).round(2).to_string(index=False))

pivot = df.pivot_table(index="region", columns="product", values="units", aggfunc="sum", fill_value=0)
print(pivot.to_string())

# A time-zone-aware index across the European DST change (2026-03-29).
ts = df.set_index("when")["revenue"].tz_localize("UTC").tz_convert("Europe/Berlin")
daily = ts.resample("D").sum().round(2)
print(daily.head(5).to_string())
print(ts.index[:3].strftime("%Y-%m-%d %H:%M %Z").tolist())
hourly = ts.groupby(ts.index.hour).count()
print(hourly.loc[[0, 1, 2, 3]].to_dict())

out = io.StringIO()
pivot.to_csv(out)
print(out.getvalue().strip())
print(merged.round(2).to_json(orient="records")[:200])
roll = df["revenue"].rolling(20).mean().describe().round(4)
print(roll.to_string())
print(df.describe().round(3).to_string())
cats = df["product"].astype("category").value_counts().sort_index()
print(cats.to_dict())
