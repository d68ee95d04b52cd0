"""Formatting references with citeproc-py, behind one :class:`.formatter.Formatter`."""
