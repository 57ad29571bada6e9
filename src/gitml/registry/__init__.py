"""The registry: versions, stages and their history, read from git tags and branches."""
