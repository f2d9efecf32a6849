"""Exercise checks, one module per notebook (for example ``tlcourse.exercises.setup_check``)."""

__all__: list[str] = []
