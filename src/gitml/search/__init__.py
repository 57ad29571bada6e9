"""``gitml search``: a query language (and a family of English sentences) over versions."""
