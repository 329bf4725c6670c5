#!/usr/bin/python3
"""tools/conv_claims.py: the command conv_claims of the ticketsweep Python package
(tools/python), run from the checkout without installing it. Kept for the
commands README's older sections give; installed (pip install ./tools/python,
or make install), the command is `conv_claims`."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))
from ticketsweep.conv_claims import main  # noqa: E402

main()
