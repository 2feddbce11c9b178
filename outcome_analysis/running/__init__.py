"""Running: all results of one delivery computed once (results), the batch of reports and the notebook kernels."""
