"""Workload fib: naive recursive fib(25) (function calls, small ints)."""


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def run():
    assert fib(25) == 75025
