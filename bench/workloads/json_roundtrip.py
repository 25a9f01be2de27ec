"""Workload json_roundtrip: json.dumps + json.loads of a ~1 MB structure."""

import json

DATA = [
    {
        "id": i,
        "name": f"user{i}",
        "email": f"user{i}@example.com",
        "tags": ["alpha", "beta", "gamma"][: i % 3 + 1],
        "score": i * 0.25,
        "active": i % 2 == 0,
        "nested": {"x": i, "y": [i, i + 1, i + 2]},
    }
    for i in range(6_000)
]
SIZE = len(json.dumps(DATA))
assert 1_000_000 <= SIZE <= 1_100_000, SIZE


def run():
    text = json.dumps(DATA)
    assert len(text) == SIZE
    assert json.loads(text) == DATA
