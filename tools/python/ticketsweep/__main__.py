"""`python3 -m ticketsweep RESULTS.h5 [--csv OUT.csv]`: the trial table (ticketsweep.results.main)."""
from .results import main

main()
