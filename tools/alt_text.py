"""Text alternatives for the course's figures: what each shows, in one sentence read from the figure.

The authors' kit, not the lessons': the tests' conftest loads this file by path into each lesson's kernel
(``describe_figures``), so every figure the run shows carries its ``alt`` text into ``outputs/executed/``,
and ``tools/website.py`` refuses a figure without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["describe", "describe_figures"]


def _words(text: str) -> str:
    """A title or label on one line: ``"ants\\npred: bees"`` reads ``"ants (pred: bees)"``."""
    first, *rest = [" ".join(line.split()) for line in text.strip().splitlines()] or [""]
    return f"{first} ({', '.join(rest)})" if rest else first


def _listed(items: Sequence[str], most: int = 6) -> str:
    """Up to ``most`` distinct items, those holding a comma in quotes."""
    items = list(dict.fromkeys(_words(i) for i in items if i and not i.startswith("_")))
    shown = [f'"{i}"' if "," in i else i for i in items[:most]]
    return ", ".join(shown) + (f" and {len(items) - most} more" if len(items) > most else "")


def _panel(ax: Any) -> str:
    """One panel of a figure in words: its kind, title, axes and legend entries."""
    from matplotlib.collections import PathCollection
    from matplotlib.container import BarContainer, ErrorbarContainer

    containers = [type(c) for c in ax.containers]
    kind = ("heat map" if ax.get_images() and len(ax.texts) > 1 else "image" if ax.get_images()
            else "bar chart" if BarContainer in containers
            else "scatter plot" if any(isinstance(c, PathCollection) for c in ax.collections)
            else "plot with error bars" if ErrorbarContainer in containers
            else "line plot" if ax.get_lines() else "chart")
    words = [kind]
    if title := _words(ax.get_title()):
        words.append(f'"{title}"')
    y, x = ax.get_ylabel().strip(), ax.get_xlabel().strip()
    words.append(f"of {y} against {x}" if y and x else f"of {y}" if y else f"against {x}" if x else "")
    legend = ax.get_legend()
    if legend is not None:
        words.append(f"(legend: {_listed(t.get_text() for t in legend.get_texts())})")
    return " ".join(w for w in words if w)


def describe(fig: Any) -> str:
    """What a matplotlib figure shows, in one sentence read from the figure: kind, titles, axes, legend.

    The text alternative (image ``alt``) of a figure on the course's website; no one types it.

    Examples
    --------
    >>> import numpy as np
    >>> from tlcourse.plots import image_grid, learning_curves
    >>> describe(learning_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, metrics=["loss"], title="a run"))
    'Line plot of loss against epoch (legend: train, validation), titled "a run".'
    >>> describe(image_grid(np.zeros((3, 8, 8, 3), "uint8"), [0, 1, 0], class_names=["daisy", "rose"]))
    'A grid of 3 images: daisy, rose.'
    """
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    title = _words(fig.get_suptitle() or "")
    titled = f', titled "{title}"' if title else ""
    legends = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    legend = f", with the legend {_listed(legends)}" if legends else ""
    if not axes:
        return f"An empty figure{titled}."
    if len(axes) > 1 and all(ax.get_images() and not ax.get_xlabel() for ax in axes):
        labels = _listed([ax.get_title() for ax in axes], most=8)
        return f"A grid of {len(axes)} images{titled}{': ' + labels if labels else ''}{legend}."
    panels = [_panel(ax) for ax in axes]
    if len(panels) == 1:
        return f"{panels[0][0].upper()}{panels[0][1:]}{legend}{titled}."
    return f"{len(panels)} panels{titled}: " + "; ".join(panels[:6]) + (
        f"; and {len(panels) - 6} more" if len(panels) > 6 else "") + f"{legend}."


def describe_figures(shell: Any = None) -> bool:
    """Give every figure IPython shows its text alternative: ``describe(fig)`` as its image's ``alt`` metadata.

    Registered on the shell's display formatter, so each figure a cell shows carries
    ``{"image/png": {"alt": ...}}``, where nbconvert and the course's website read it. Returns False
    outside IPython (a script, a doctest).

    Examples
    --------
    >>> describe_figures()
    False
    """
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    if shell is None:
        return False
    from matplotlib.figure import Figure

    def metadata(fig: Figure) -> tuple[dict, dict]:
        return {}, {"image/png": {"alt": describe(fig)}}  # the inline backend's format

    shell.display_formatter.mimebundle_formatter.for_type(Figure, metadata)
    return True
