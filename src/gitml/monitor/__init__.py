"""Monitoring: a model's reference statistics (baseline) and drift of live batches against it."""
