"""Grid events: jurisdictions and grids, grid workers, reported events (Arts. 2, 3, 5, 6, 9)."""
