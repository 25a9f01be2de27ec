"""Data-stack compute timings (best of 5 inside one process), printed as
`name milliseconds` lines; bench.py runs it natively and in the sandbox."""

import io
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def best(fn, runs=5):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1000


rng = np.random.default_rng(1)
frame = pd.DataFrame({"k": rng.integers(0, 100, 200_000), "v": rng.random(200_000)})
a, b = rng.random((200, 200)), rng.random((200, 200))
signal = rng.random(65_536)
x = np.linspace(0, 10, 500)


def figure():
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(x, np.sin(x), label="sin")
    ax.scatter(x[::10], np.cos(x[::10]), label="cos")
    ax.set_title("a figure")
    ax.legend()
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


for name, fn in [
    ("pandas groupby-agg, 200k rows", lambda: frame.groupby("k")["v"].agg(["sum", "mean", "std"])),
    ("numpy matmul 200x200", lambda: a @ b),
    ("numpy FFT 65536", lambda: np.fft.fft(signal)),
    ("matplotlib figure to PNG", figure),
]:
    print(f"{name}\t{best(fn):.2f}")
