"""Running the package as Lambda would: the probe, the safety net, cold start, `slim verify`."""
