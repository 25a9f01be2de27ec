"""Workload sum_squares: sum(i*i for i in range(3_000_000)) (generator, big ints)."""


def run():
    assert sum(i * i for i in range(3_000_000)) == 8999995500000500000
