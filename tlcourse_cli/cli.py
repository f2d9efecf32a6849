"""The ``tlcourse`` command (also ``python -m tlcourse_cli``): ``doctor``, ``fetch``, ``audit``, ``train``, ``predict``.

Each sub-command imports TensorFlow only when it needs it, so ``--help`` is quick; :func:`main` runs it
in :func:`quiet_native_logs`, so TensorFlow's C++ log lines stay off the terminal while the course's
``error:`` lines and Python's tracebacks reach it.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from tlcourse import settings
from tlcourse_assets.errors import WeightsNotAvailableError

__all__ = ["build_parser", "main", "quiet_native_logs"]


# What TensorFlow's C++ runtime and absl print by themselves while TensorFlow loads: a log prefix
# (absl's: severity I/W/E/F, MMDD, time, thread, file:line]; or older TensorFlows' date, time and
# severity), absl's note that logging is not initialised, and the second line of the CPU-features
# note. Fatal (F) lines are never dropped: they explain an abort.
_NATIVE_LINE = re.compile(r"^(?:(?P<severity>[IWEF])\d{4} [\d:.]+ +\d+ "
                          r"|\d{4}-\d\d-\d\d [\d:.]+: (?P<old_severity>[IWEF]) )[^\s\]]+:\d+\] ")
_ABSL_PRE_INIT = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_CPU_FEATURES_TAIL = re.compile(r"^To enable the following instructions: .*rebuild TensorFlow with the appropriate")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 99}


def _is_native_noise(line: str, level: int) -> bool:
    """True for a TensorFlow/absl C++ log line below ``level`` (``TF_CPP_MIN_LOG_LEVEL``'s scale)."""
    m = _NATIVE_LINE.match(line)
    if m:
        return _SEVERITY[m.group("severity") or m.group("old_severity")] < level
    return level >= 1 and (line.startswith(_ABSL_PRE_INIT) or bool(_CPU_FEATURES_TAIL.match(line)))


def _write_all(fd: int, data: bytes) -> None:
    with contextlib.suppress(OSError):  # a closed stderr: the lines have nowhere to go
        while data:
            data = data[os.write(fd, data):]


def _forward(read_fd: int, write_fd: int, level: int) -> None:
    """Copy lines from ``read_fd`` to ``write_fd`` until end of file, leaving out TensorFlow's log lines."""
    pending = b""
    try:
        while chunk := os.read(read_fd, 65536):
            *lines, pending = (pending + chunk).split(b"\n")
            kept = [ln for ln in lines if not _is_native_noise(ln.decode("utf-8", "replace"), level)]
            if kept:
                _write_all(write_fd, b"".join(ln + b"\n" for ln in kept))
        if pending and not _is_native_noise(pending.decode("utf-8", "replace"), level):
            _write_all(write_fd, pending)
    finally:
        os.close(read_fd)


@contextlib.contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Keep TensorFlow's C++ and absl log lines (CUDA probing, oneDNN) out of the command's stderr.

    TensorFlow 2.21 writes them to file descriptor 2 while it loads, whatever ``TF_CPP_MIN_LOG_LEVEL`` says,
    past ``sys.stderr``. Inside the block a thread copies that descriptor to the real stderr, line by line,
    without TensorFlow's lines below :func:`tlcourse.settings.native_log_level` (``0`` turns the filter off).
    Python's output, warnings and tracebacks, and fatal (``F``) lines, pass.
    """
    level = settings.native_log_level()
    if level <= 0:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr (a windowless app): nothing to filter
        yield
        return
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    thread = threading.Thread(target=_forward, args=(read_fd, saved, level), name="tlcourse-stderr", daemon=True)
    thread.start()
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the thread reads to the end and stops
        thread.join(timeout=2)
        if not thread.is_alive():
            os.close(saved)


def _doctor(args: argparse.Namespace) -> int:
    from tlcourse import runtime
    from tlcourse_cli import doctor

    report = runtime.setup(seed=0, profile=args.profile, verbose=True)
    assets = doctor.course_assets(report.profile.name)
    print("\nCourse data and weights:")
    for asset in assets:
        print("  " + asset.line())
    missing = [a for a in assets if not a.available]
    if missing:
        print(f"\n{len(missing)} missing: `tlcourse fetch` downloads them (internet), or "
              "`tlcourse fetch --mirror DIR` copies them from a classroom mirror.")
    outside = runtime.version_notes()  # already among the report's notes, printed above
    if outside:
        print("\nThe versions above are not the course's: the note in the set-up report says what to run.")
    if args.time:
        _print_minutes(report.profile.name)
    if missing or outside:
        print(f"Troubleshooting, failure by failure: {runtime.TROUBLESHOOTING}")
        return 1
    print("\nEverything the course needs is here.")
    return 0


def _print_minutes(profile: str) -> None:
    from tlcourse_cli import doctor

    speed = doctor.time_training_step(image_size=96, batch_size=32, steps=5)
    print(f"\nOne fine-tuning step here: {speed['first_step_s']:.1f} s the first (tracing), then "
          f"{speed['images_per_s']:.0f} images/s. Minutes each lesson takes on this machine:")
    minutes = doctor.lesson_minutes(speed["images_per_s"], full_profile=profile == "full")
    print(f"  {'notebook':32s} {'teaching':>8s} {'exercises':>9s} {'computing':>9s} {'total':>6s}")
    for name, m in minutes.items():
        print(f"  {name:32s} {m['teaching']:8.0f} {m['exercises']:9.0f} {m['computing']:9.1f} {sum(m.values()):6.0f}")
    totals = {kind: sum(m[kind] for m in minutes.values()) for kind in ("teaching", "exercises", "computing")}
    print(f"whole course ({profile} profile): about {sum(totals.values()) / 60:.1f} h = {totals['teaching']:.0f} min "
          f"teaching + {totals['exercises']:.0f} min exercises + {totals['computing']:.0f} min computing here")


def _fetch(args: argparse.Namespace) -> int:
    from tlcourse import runtime
    from tlcourse_cli import doctor

    profile = runtime.active_profile(args.profile).name
    assets = doctor.fetch(profile, mirror=args.mirror, names=args.names or None)
    wanted = [a for a in assets if not args.names or (a.kind == "data" and a.name in args.names)]
    for asset in wanted:
        print("  " + asset.line())
    return 0 if all(a.available for a in wanted) else 1


def _audit(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from tlcourse_cli import capstone

    path = Path(args.splits).expanduser() if args.splits else None
    if path is not None and path.is_dir():  # before the audit it would waste
        print(f"error: --splits {path} is a folder: give a file, for example {path / 'splits.json'}", file=sys.stderr)
        return 2
    try:
        audit = capstone.audit_folder(args.folder)
    except capstone.FolderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    splits = capstone.make_splits(audit, seed=args.seed, max_per_class=args.max_per_class)
    print(audit.summary(), "splits:", splits.summary(), sep="\n")
    if path is not None:
        tmp = path.with_name(f".{path.name}.tmp")
        try:  # whole or not at all: a file named .NAME.tmp, renamed when written
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(splits.to_json(), indent=1) + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):  # a half-written file is not left behind
                tmp.unlink(missing_ok=True)
            print(f"error: --splits {path} cannot be written ({exc.strerror or exc})", file=sys.stderr)
            return 2
        print(f"wrote {path}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from tlcourse import runtime
    from tlcourse_assets.errors import ChecksumError
    from tlcourse_cli import capstone

    try:
        out = capstone.check_out_dir(args.out)  # before TensorFlow starts: a wrong --out costs nothing
        report = runtime.setup(seed=args.seed, profile=args.profile, verbose=False)
        capstone.train(args.folder, out, profile=report.profile, seed=args.seed,
                       budget=args.budget, fine_tune_epochs=args.fine_tune_epochs, image_size=args.image_size,
                       max_per_class=args.max_per_class, verbose=0 if args.quiet else 2 if args.verbose else 1)
    except (capstone.FolderError, capstone.ModelFolderError, WeightsNotAvailableError, ChecksumError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _predict(args: argparse.Namespace) -> int:
    from tlcourse import runtime
    from tlcourse_cli import capstone

    runtime.setup(seed=0, verbose=False)
    try:
        results = capstone.predict(args.model_dir, args.images)
    except (FileNotFoundError, capstone.ModelFolderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for r in results:
        print(r, file=sys.stderr if r.error else sys.stdout)
    return 1 if any(r.error for r in results) else 0


def _number(kind: type, low: float, high: float | None = None, what: str = "") -> Any:
    """An argparse type: a ``kind`` number from ``low`` to ``high``, refused with the range otherwise."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or value < low or (high is not None and value > high):
            bound = f"from {low:g} to {high:g}" if high is not None else f"{low:g} or more"
            raise argparse.ArgumentTypeError(f"{text} is out of range: give {bound}{what}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tlcourse`` command (also used by the tests).

    Examples
    --------
    >>> build_parser().parse_args(["predict", "out", "a.jpg"]).func.__name__
    '_predict'
    """
    parser = argparse.ArgumentParser(prog="tlcourse", description="Transfer-learning course helpers.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("doctor", help="show the set-up report and what the course is missing")
    p.add_argument("--profile", choices=["quick", "full"], default=None)
    p.add_argument("--time", action="store_true", help="also time a training step and estimate each lesson's minutes")
    p.set_defaults(func=_doctor)

    p = sub.add_parser("fetch", help="download (or copy from a mirror) the course's data and weights")
    p.add_argument("names", nargs="*", help="only these data sets (default: everything)")
    p.add_argument("--mirror", default=None, help="a folder with datasets/, keras/models/, huggingface/")
    p.add_argument("--profile", choices=["quick", "full"], default=None)
    p.set_defaults(func=_fetch)

    p = sub.add_parser("audit", help="check a folder of images and split it, without training",
                       description="What `tlcourse train` does first: open every file of FOLDER, count, find "
                                   "unreadable files and duplicates, then split train/validation/test (seeded).")
    p.add_argument("folder", help="folder of images: FOLDER/<class>/* or FOLDER/<split>/<class>/*")
    p.add_argument("--splits", default=None, help="write the splits (files and labels) to this JSON file")
    p.add_argument("--seed", type=_number(int, 0, 2**32 - 1), default=42)
    p.add_argument("--max-per-class", type=_number(int, 1), default=None,
                   help="use at most N photos of each class for training and validation (default: all; test is whole)")
    p.set_defaults(func=_audit)

    p = sub.add_parser("train", help="audit a folder of images, train a classifier on it and save it",
                       description="Audit FOLDER (<class>/* or <split>/<class>/*), plan the image size and "
                                   "epochs that fit --budget on this machine, then baseline, feature extraction "
                                   "and fine-tuning (LP-FT) chosen on validation; write model.keras, classes.json "
                                   "report.json and splits.json to --out.")
    p.add_argument("folder", help="folder of images: FOLDER/<class>/* or FOLDER/<split>/<class>/*")
    p.add_argument("--out", required=True, help="folder to write model.keras, classes.json, report.json to")
    p.add_argument("--profile", choices=["quick", "full"], default=None, help="default: by hardware")
    p.add_argument("--seed", type=_number(int, 0, 2**32 - 1), default=42)
    p.add_argument("--fine-tune-epochs", type=_number(int, 0, what=" (0: no fine-tuning)"), default=None,
                   help="default: planned from --budget")
    p.add_argument("--image-size", type=_number(int, 32, 1024, " pixels (the ImageNet bases need at least 32)"),
                   default=None, help="default: planned from --budget (224 px where it fits)")
    p.add_argument("--budget", type=_number(float, 1.0, what=" seconds"), default=240.0,
                   help="seconds to plan for: the image size and fine-tuning epochs are chosen to fit (default 240)")
    p.add_argument("--max-per-class", type=_number(int, 1), default=None,
                   help="use at most N photos of each class for training and validation (default: all; test is whole)")
    talk = p.add_mutually_exclusive_group()
    talk.add_argument("--quiet", action="store_true", help="print nothing but errors")
    talk.add_argument("--verbose", action="store_true", help="also print Keras's line for each fine-tuning epoch")
    p.set_defaults(func=_train)

    p = sub.add_parser("predict", help="classify image files with a model saved by `tlcourse train`")
    p.add_argument("model_dir", help="the --out folder of `tlcourse train`")
    p.add_argument("images", nargs="+", help="image files")
    p.set_defaults(func=_predict)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tlcourse`` command; returns the exit code.
    """
    args = build_parser().parse_args(argv)
    try:
        with quiet_native_logs():  # before any sub-command imports TensorFlow
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
