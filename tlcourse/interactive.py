"""Controls that redraw a figure from data a lesson already computed: ``explore(draw, controls)``.

``draw(**values)`` runs once with every control's default. Where a front end draws widgets (JupyterLab,
Notebook 7, VS Code) the same output also holds the controls and a view redrawn at each move; elsewhere
(nbval, ``jupyter nbconvert --execute``, a terminal) the default drawing alone shows. ``draw`` runs at
every move, so it reads arrays computed above and never trains. ipywidgets is imported only when a
widget is built.

Examples
--------
>>> def draw(k, squared):
...     print(k * k if squared else k)
>>> explore(draw, {"k": Slider(1, 10, default=3), "squared": Toggle(True)})
9
>>> defaults({"k": Slider(1, 10, default=3), "kind": Choice(["a", "b"])})
{'k': 3, 'kind': 'a'}
"""

from __future__ import annotations

import base64
import contextlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Choice", "Slider", "Text", "Toggle", "Upload", "defaults", "explore", "uploaded_bytes", "widgets_for"]


@dataclass(frozen=True)
class Slider:
    """A number between ``low`` and ``high`` (integers unless one of the three is a float).

    Introduced in 01_what_is_transfer_learning.
    """

    low: float
    high: float
    step: float = 1
    default: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"Slider needs low < high, got {self.low} and {self.high}")
        if self.step <= 0:
            raise ValueError(f"Slider needs a positive step, got {self.step}")
        value = self.value
        if not self.low <= value <= self.high:
            raise ValueError(f"Slider default {value} is outside [{self.low}, {self.high}]")

    @property
    def value(self) -> float:
        return self.low if self.default is None else self.default

    @property
    def is_int(self) -> bool:
        return all(float(x).is_integer() and not isinstance(x, float) for x in (self.low, self.high, self.step)) and (
            self.default is None or not isinstance(self.default, float))

    def widget(self, name: str) -> Any:
        import ipywidgets as w

        kind = w.IntSlider if self.is_int else w.FloatSlider
        return kind(min=self.low, max=self.high, step=self.step, value=self.value,
                    description=self.description or name, continuous_update=False,
                    style={"description_width": "initial"}, layout=w.Layout(width="32em"))


@dataclass(frozen=True)
class Choice:
    """One of ``options`` (strings, or ``(label, value)`` pairs); the first unless ``default`` says.

    Introduced in 03_fine_tuning.
    """

    options: Sequence[Any]
    default: Any = None
    description: str = ""

    def __post_init__(self) -> None:
        if len(self.options) == 0:
            raise ValueError("Choice needs at least one option")
        if self.default is not None and self.default not in self._values():
            raise ValueError(f"Choice default {self.default!r} is not one of {list(self._values())}")

    def _values(self) -> list[Any]:
        return [o[1] if isinstance(o, tuple) else o for o in self.options]

    @property
    def value(self) -> Any:
        return self._values()[0] if self.default is None else self.default

    def widget(self, name: str) -> Any:
        import ipywidgets as w

        return w.Dropdown(options=list(self.options), value=self.value, description=self.description or name,
                          style={"description_width": "initial"})


@dataclass(frozen=True)
class Toggle:
    """On or off."""

    default: bool = False
    description: str = ""

    @property
    def value(self) -> bool:
        return bool(self.default)

    def widget(self, name: str) -> Any:
        import ipywidgets as w

        return w.Checkbox(value=self.value, description=self.description or name, indent=False)


@dataclass(frozen=True)
class Text:
    """A line of text.

    Introduced in 07_text_transfer.
    """

    default: str = ""
    description: str = ""

    @property
    def value(self) -> str:
        return self.default

    def widget(self, name: str) -> Any:
        import ipywidgets as w

        return w.Text(value=self.value, description=self.description or name, continuous_update=False,
                      style={"description_width": "initial"}, layout=w.Layout(width="40em"))


@dataclass(frozen=True)
class Upload:
    """A file from the learner's computer; ``draw`` receives its bytes, or ``default`` before any upload.

    Introduced in 06_capstone_your_own_data.
    """

    default: bytes | None = None
    accept: str = "image/*"
    description: str = "upload"

    @property
    def value(self) -> bytes | None:
        return self.default

    def widget(self, name: str) -> Any:
        import ipywidgets as w

        return w.FileUpload(accept=self.accept, multiple=False, description=self.description or name)


Control = Slider | Choice | Toggle | Text | Upload


def defaults(controls: dict[str, Control]) -> dict[str, Any]:
    """Each control's starting value: what the static drawing uses."""
    return {name: control.value for name, control in controls.items()}


def uploaded_bytes(value: Any, default: bytes | None = None) -> bytes | None:
    """The content of a ``FileUpload`` value (ipywidgets 8: a tuple of dicts), or ``default`` if empty.

    Examples
    --------
    >>> uploaded_bytes(({"name": "a.jpg", "content": memoryview(b"xy")},))
    b'xy'
    >>> uploaded_bytes((), b"sample")
    b'sample'
    """
    if isinstance(value, bytes | None):
        return value if value is not None else default
    items = list(value.values()) if isinstance(value, dict) else list(value)
    if not items:
        return default
    return bytes(items[0]["content"])


def widgets_for(controls: dict[str, Control]) -> dict[str, Any]:
    """The ipywidgets for ``controls``, by name (imports ipywidgets)."""
    return {name: control.widget(name) for name, control in controls.items()}


def _render(draw: Callable[..., Any], values: dict[str, Any]) -> tuple[str, bytes | None, dict[str, Any]]:
    """Call ``draw``: what it printed, its figure as PNG (None if none) and that PNG's metadata (its ``alt``)."""
    import matplotlib.pyplot as plt
    from IPython import get_ipython

    before = set(plt.get_fignums())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        draw(**values)
    png, metadata = None, {}
    new = [n for n in plt.get_fignums() if n not in before]
    if new:
        buffer = io.BytesIO()
        figure = plt.figure(new[-1])
        figure.savefig(buffer, format="png", bbox_inches="tight", dpi=plt.rcParams.get("figure.dpi", 72))
        png = buffer.getvalue()
        formatter = getattr(get_ipython(), "display_formatter", None)
        metadata = formatter.mimebundle_formatter(figure)[1] if formatter is not None else {}
        for n in new:
            plt.close(n)
    return out.getvalue(), png, metadata


def _describe(controls: dict[str, Control]) -> str:
    return ", ".join(f"{name}={control.value!r}" if not isinstance(control, Upload) else f"{name}=(no upload)"
                     for name, control in controls.items())


def explore(draw: Callable[..., Any], controls: dict[str, Control], title: str = "") -> None:
    """Show ``draw(**defaults)``; where widgets are drawn, also the controls and a view redrawn at each move.

    Introduced in 01_what_is_transfer_learning.
    """
    if not controls:
        raise ValueError("explore needs at least one control; for a static figure, call the function itself")
    values = defaults(controls)
    import IPython.display  # ipywidgets' dependency, installed with the course

    if IPython.get_ipython() is None:
        draw(**values)
        return
    text, png, metadata = _render(draw, values)
    plain = (text.rstrip("\n") + "\n" if text else "") + (
        f"[interactive in JupyterLab: {title or 'controls'} ({_describe(controls)}); shown here at these values]")
    import ipywidgets as w
    import matplotlib.pyplot as plt

    inputs = widgets_for(controls)
    view = w.Output()
    # The view starts with the drawing already made above (drawing it again would double the cell's time).
    # (Set as outputs, not through Output.append_*: those create an IPython shell where none runs.)
    first = [{"output_type": "stream", "name": "stdout", "text": text}] if text else []
    if png is not None:
        first.append({"output_type": "display_data", "metadata": metadata,
                      "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": "<Figure>"}})
    view.outputs = tuple(first)

    def redraw(_change: Any = None) -> None:
        # draw gets an upload's bytes (or the default), as in the static drawing, not the widget's tuple of files
        current = {name: uploaded_bytes(widget.value, controls[name].value) if isinstance(controls[name], Upload)
                   else widget.value for name, widget in inputs.items()}
        before = set(plt.get_fignums())
        with view:
            view.clear_output(wait=True)
            draw(**current)
            for n in sorted(set(plt.get_fignums()) - before):  # shown here, then closed: whatever the backend,
                IPython.display.display(plt.figure(n))         # each figure appears once, in the view
                plt.close(n)

    for widget in inputs.values():
        widget.observe(redraw, names="value")
    header = [w.HTML(f"<b>{title}</b>")] if title else []
    box = w.VBox(header + [w.HBox(list(inputs.values()), layout=w.Layout(flex_flow="row wrap")), view])
    box.add_class("tlcourse-explore")
    bundle = box._repr_mimebundle_()
    bundle["text/plain"] = plain
    if png is not None:
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
    IPython.display.display(bundle, raw=True, metadata=metadata)
