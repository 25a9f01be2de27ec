"""Shared fixtures: a default sandbox per test (closed afterwards)."""

import pytest

import eryx


@pytest.fixture
def sb():
    with eryx.Sandbox() as sandbox:
        yield sandbox
