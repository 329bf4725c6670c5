"""pycheck: check() and done() for the Python the shell tests run inline (a
heredoc run by "$PY" with $TOP/tests on PYTHONPATH), so each block holds only
its checks:

    from pycheck import check, done
    check(x == 1, "x is %d" % x)   # if not: prints "FAIL: x is 2", counts it, goes on
    done()                         # exit 1 if any check failed, else 0

A failed check does not stop the script: one run shows every check that fails.
"""
import sys

_failed = 0


def check(cond, msg):
    """Unless cond holds, print "FAIL: msg" and count a failure."""
    global _failed
    if not cond:
        print("FAIL:", msg)
        _failed += 1


def failures():
    """How many checks have failed so far."""
    return _failed


def done():
    """End the script: exit 1 if a check failed, 0 if none (not the count,
    which the shell would see modulo 256)."""
    sys.exit(1 if _failed else 0)
