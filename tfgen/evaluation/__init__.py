"""Evaluation of trained models: best-of-N scores, statistics, plots, sample pictures."""
