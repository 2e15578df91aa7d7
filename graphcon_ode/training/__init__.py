"""Training: the fit loops, their tasks (loss, metric, selection) and the helpers of many-process runs."""
