"""Writes faulthandler dumps at faulthandler's limits to stdout, for the
parser's tests (go test -run TestRecordLimits -record):

  threads   120 threads: faulthandler prints 100, then "..."
  frames    a thread 150 calls deep: 100 frames, then "  ..."
  unicode   a file and a function with non-ASCII names (escaped) and a
            function name over 500 characters (cut, ending in "...")
  twice     two dumps in a row (no separator between them)
"""

import faulthandler
import sys
import threading

release = threading.Event()
deep_enough = threading.Event()


def deep(n):
    if n == 0:
        deep_enough.set()
        release.wait()
        return
    deep(n - 1)


UNICODE_SRC = """
def f\u00fcnc(ready, release):
    ready.set()
    release.wait()

def %s(ready, release):
    f\u00fcnc(ready, release)
""" % ("long_" + "x" * 600)


def main(mode):
    if mode == "threads":
        for _ in range(120):
            threading.Thread(target=release.wait, daemon=True).start()
    elif mode == "frames":
        threading.Thread(target=deep, args=(150,), daemon=True).start()
        deep_enough.wait()
    elif mode == "unicode":
        ns = {}
        exec(compile(UNICODE_SRC, "/src/t\u00ebst_\u00fc\u65e5.py", "exec"), ns)
        long_name = [k for k in ns if k.startswith("long_")][0]
        threading.Thread(target=ns[long_name], args=(deep_enough, release), daemon=True).start()
        deep_enough.wait()
    sys.stdout.flush()
    faulthandler.dump_traceback(sys.stdout, all_threads=True)
    if mode == "twice":
        faulthandler.dump_traceback(sys.stdout, all_threads=True)
    release.set()


main(sys.argv[1])
