"""A worker that dies in the middle of a test (os._exit), for the events of
xdist's crash handling: the controller reports the test as crashed and
replaces the worker, which runs the tests left."""
import os

import pytest


@pytest.mark.parametrize("n", range(3))
def test_before(n):
    pass


def test_dies():
    print("about to die", flush=True)
    os._exit(3)


@pytest.mark.parametrize("n", range(3))
def test_after(n):
    pass
