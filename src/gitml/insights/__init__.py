"""``gitml insights``: the team's delivery figures, computed from the registry's history."""
