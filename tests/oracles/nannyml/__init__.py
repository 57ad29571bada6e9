"""NannyML's CBPE as the oracle for :mod:`gitml.monitor.cbpe` (see install.py)."""
