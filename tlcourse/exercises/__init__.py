"""Exercise checks, one module per notebook (for example ``tlcourse.exercises.setup_check``).

:mod:`~tlcourse.exercises.probes` holds what several checks observe of an answer: what a base receives
inside the learner's model, what one training step moves, whether a function is the course's own.
"""

__all__: list[str] = []
