"""The pull-request report: compute the diff first, then render it (markdown, JSON)."""
