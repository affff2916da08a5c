import os


def test_spin():
    open(os.path.join(os.environ["HANG_DIR"], "spin.blocking"), "w").close()
    n = 0
    while n >= 0: n += 1  # noqa: E701 (one line: every dump shows line 7)
