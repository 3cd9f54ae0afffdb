"""Emergency command: key areas with plans and drills, incidents and command tasks, warnings as CAP 1.2
(Arts. 6(3), 6(4), 7(1))."""
