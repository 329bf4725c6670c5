"""ticketsweep: read, tabulate and draw the results files of ticketsweep.

    import ticketsweep
    with ticketsweep.load("sweep.h5") as r:
        print(r.trials)             # one row per trial
        df = r.table()              # pandas: one row per done trial x arm x round
        ds = r.to_xarray()          # xarray: the grid's own dimensions, NaN where a cell does not reach

The modules: ticketsweep.results (the reader: load, Results; its names are
also here), ticketsweep.fields (the names the reader and its xarray view
share), ticketsweep.dataset (Results.to_xarray), ticketsweep.report (the
paper's figures and tables, and the HTML page: the command lth_report),
ticketsweep.lenet_claims and ticketsweep.conv_claims (the paper's claims 1-6
and 8-10: the commands lenet_claims and conv_claims). `python3 -m
ticketsweep RESULTS.h5` prints the trial table.

__version__ is the version of the ticketsweep binary built from the same
checkout (`ticketsweep --version`); see tools/python/setup.py.
"""
from .results import (ARMS, DONE, FAILED, FORMAT, FORMAT_VERSION, METRICS, PENDING,
                      STATUS_NAMES, SUMMARY_FIELDS, TABLE_COLUMNS, FormatError, Results, Trial,
                      TrialTable, load)

try:
    from ._version import version as __version__
except ImportError:  # imported from the source tree, not installed: no build wrote it
    __version__ = "0+unknown"

__all__ = ["ARMS", "DONE", "FAILED", "FORMAT", "FORMAT_VERSION", "METRICS", "PENDING",
           "STATUS_NAMES", "SUMMARY_FIELDS", "TABLE_COLUMNS", "FormatError", "Results", "Trial",
           "TrialTable", "load", "__version__"]
