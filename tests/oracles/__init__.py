"""Reference implementations run as test oracles, each in a virtualenv of its own."""
