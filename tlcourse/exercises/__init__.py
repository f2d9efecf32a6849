"""Exercise checks, one module per notebook (for example ``tlcourse.exercises.setup_check``).

Each check computes a reference (the course's own function, a refitted classifier, what unfreeze_top
sets) and compares the answer with it; :mod:`~tlcourse.exercises.probes` holds the steps several checks
share, and ``tlcourse.checks.Checker`` collects the points.
"""

__all__: list[str] = []
