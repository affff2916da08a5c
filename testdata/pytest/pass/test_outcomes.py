"""Every outcome pytest knows, for hangdog's plugin and totals tests."""
import sys

import pytest


def test_pass(module_resource):
    assert module_resource


def test_fail():
    assert 1 + 1 == 3, "fails on purpose"


def test_error_in_setup(broken_setup):
    pass


def test_error_in_teardown(broken_teardown):
    assert broken_teardown == 1


def test_skip():
    pytest.skip("skipped on purpose")


@pytest.mark.xfail(reason="fails as expected")
def test_xfail():
    assert False


@pytest.mark.xfail(reason="passes unexpectedly")
def test_xpass():
    pass


@pytest.mark.parametrize("path", ["a/b", "c::d", "plain"])
def test_ids(path):
    print("id", path)
    sys.stderr.write("err %s\n" % path)
    assert path


class TestGroup:
    def test_in_class(self, session_resource):
        assert session_resource

    def test_output(self, capsys):
        print("captured")
        assert capsys.readouterr().out == "captured\n"
