"""Promotion gates: declarative policies and their pure evaluation."""
