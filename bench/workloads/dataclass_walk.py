"""Workload dataclass_walk: build ~200k small dataclass instances (a tree of
nodes) and walk them (object-heavy code: allocation, attribute access)."""

from dataclasses import dataclass, field


@dataclass
class Node:
    key: int
    weight: float
    children: list = field(default_factory=list)


def build(n):
    nodes = [Node(i, (i % 97) / 7.0) for i in range(n)]
    for i in range(1, n):
        nodes[(i - 1) // 4].children.append(nodes[i])
    return nodes[0]


def walk(root):
    total, count, stack = 0.0, 0, [root]
    while stack:
        node = stack.pop()
        total += node.weight * (node.key & 7)
        count += 1
        stack.extend(node.children)
    return count, total


def run():
    count, _ = walk(build(200_000))
    assert count == 200_000
