"""Example credit-default scoring project that uses gitml like any user project."""
