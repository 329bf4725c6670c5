"""ticketsweep.fields: the names the results file's readers share (the
reader, ticketsweep.results, and its xarray view, ticketsweep.dataset), so
that neither imports the other for them."""

METRICS = ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc")
SUMMARY_FIELDS = ("density", "early_stop_iter", "early_stop_test_acc", "final_test_acc")
PENDING, DONE, FAILED = 0, 1, 2
STATUS_NAMES = {PENDING: "pending", DONE: "done", FAILED: "failed"}
