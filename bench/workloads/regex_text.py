"""Workload regex_text: findall/sub/split over ~0.4 MB of generated text."""

import re

_WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit",
          "sed", "do", "eiusmod", "tempor", "incididunt", "ut", "labore", "magna"]


def _line(i):
    w = [_WORDS[(i * 7 + k * 3) % len(_WORDS)] for k in range(8)]
    return (f"{i:06d} {' '.join(w)} contact {w[0]}.{w[1]}{i}@mail{i % 13}.example.org "
            f"on 20{i % 30:02d}-{i % 12 + 1:02d}-{i % 28 + 1:02d} total={i * 37 % 1000}.{i % 100:02d}")


TEXT = "\n".join(_line(i) for i in range(3_000))
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
WORD = re.compile(r"\b[a-z]{5,}\b")
AMOUNT = re.compile(r"total=(\d+)\.(\d\d)")


def run():
    assert len(EMAIL.findall(TEXT)) == 3_000
    assert len(DATE.findall(TEXT)) == 3_000
    counts = {}
    for w in WORD.findall(TEXT):
        counts[w] = counts.get(w, 0) + 1
    assert counts
    cents = sum(int(a) * 100 + int(b) for a, b in AMOUNT.findall(TEXT))
    assert cents > 0
    swapped = DATE.sub(r"\3/\2/\1", TEXT)
    assert len(swapped) == len(TEXT)
    assert len(re.split(r"\s+", TEXT)) > 30_000
