"""Data-stack workflow: a CSV on the scratch filesystem, aggregated with
pandas and plotted with matplotlib (Agg, the bundled DejaVu fonts). Prints
the aggregates and, last, the PNG as a `PNG <base64>` line; compare.py
compares the text byte for byte and the image with matplotlib's own image
comparison. Runs unchanged under native CPython and in the sandbox."""

import base64
import os
import tempfile

import matplotlib
import matplotlib.testing

matplotlib.use("Agg")
# Glyphs as matplotlib's own image tests draw them (unhinted): FreeType's
# autohinter differs between versions, and ours (2.13, from the
# freetype-sys crate) is not the 2.6.1 matplotlib's wheels bundle.
matplotlib.testing.set_font_settings_for_testing()
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

rng = np.random.default_rng(2026)
n = 360
days = pd.date_range("2026-01-01", periods=n, freq="D")
frame = pd.DataFrame({
    "day": days,
    "region": rng.choice(["north", "south", "east"], n),
    "units": rng.integers(1, 40, n),
    "price": rng.gamma(4.0, 2.5, n).round(2),
})
csv = os.path.join(tempfile.gettempdir(), "eryx-sales.csv")
frame.to_csv(csv, index=False)

sales = pd.read_csv(csv, parse_dates=["day"])
sales["revenue"] = sales["units"] * sales["price"]
monthly = sales.groupby([sales["day"].dt.month.rename("month"), "region"])["revenue"].sum().unstack()
print(monthly.round(2).to_string())
print(sales.groupby("region")["units"].agg(["count", "sum", "mean"]).round(3).to_string())

fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2), dpi=72)
monthly.plot(ax=left, marker="o", title="Revenue by month")
left.set_xlabel("month")
left.set_ylabel("revenue")
sales["price"].plot.hist(ax=right, bins=24, color="tab:purple", title="Prices")
right.axvline(sales["price"].mean(), color="black", linestyle="--", label="mean")
right.legend()
# A fixed layout: tight_layout() would place the axes by the text's extents,
# which depend on the FreeType version (ours is not matplotlib's 2.6.1).
fig.subplots_adjust(left=0.09, right=0.98, bottom=0.17, top=0.9, wspace=0.25)
png = os.path.join(tempfile.gettempdir(), "eryx-sales.png")
fig.savefig(png)
with open(png, "rb") as f:
    print("PNG", base64.b64encode(f.read()).decode())
