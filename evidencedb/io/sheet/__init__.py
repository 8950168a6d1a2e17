"""Extraction sheets: one row per finding, study columns repeated (parse → plan → write)."""
