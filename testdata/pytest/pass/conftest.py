import time

import pytest


@pytest.fixture(scope="session")
def session_resource():
    # Set up under the first test that asks for it, torn down under the last test.
    yield {"opened": time.time()}


@pytest.fixture(scope="module")
def module_resource(session_resource):
    yield [session_resource]


@pytest.fixture
def broken_setup():
    raise RuntimeError("setup fails on purpose")


@pytest.fixture
def broken_teardown():
    yield 1
    raise RuntimeError("teardown fails on purpose")
