"""The ``tlcourse`` command: ``doctor``, ``fetch``, and the capstone's ``train`` and ``predict``.

    tlcourse doctor                 set-up report and what is missing (exit 1 if anything is)
    tlcourse fetch [--mirror DIR]   download, or copy from a mirror, everything the course needs
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

__all__ = ["main"]


def _doctor(args: argparse.Namespace) -> int:
    from tlcourse import doctor, runtime

    report = runtime.setup(seed=0, profile=args.profile, verbose=True)
    assets = doctor.course_assets(report.profile.name)
    print("\nCourse data and weights:")
    for asset in assets:
        print("  " + asset.line())
    missing = [a for a in assets if not a.available]
    if missing:
        print(f"\n{len(missing)} missing: `tlcourse fetch` downloads them (internet), or "
              "`tlcourse fetch --mirror DIR` copies them from a classroom mirror.")
        return 1
    print("\nEverything the course needs is here.")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from tlcourse import doctor, runtime

    profile = runtime.active_profile(args.profile).name
    assets = doctor.fetch(profile, mirror=args.mirror, names=args.names or None)
    wanted = [a for a in assets if not args.names or (a.kind == "data" and a.name in args.names)]
    for asset in wanted:
        print("  " + asset.line())
    return 0 if all(a.available for a in wanted) else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the tests)."""
    parser = argparse.ArgumentParser(prog="tlcourse", description="Transfer-learning course helpers.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("doctor", help="show the set-up report and what the course is missing")
    p.add_argument("--profile", choices=["quick", "full"], default=None)
    p.set_defaults(func=_doctor)
    p = sub.add_parser("fetch", help="download (or copy from a mirror) the course's data and weights")
    p.add_argument("names", nargs="*", help="only these data sets (default: everything)")
    p.add_argument("--mirror", default=None, help="a folder with datasets/, keras/models/, huggingface/")
    p.add_argument("--profile", choices=["quick", "full"], default=None)
    p.set_defaults(func=_fetch)
    try:
        from tlcourse import capstone
    except ImportError:  # the capstone module is optional while the course is built
        capstone = None
    if capstone is not None and hasattr(capstone, "add_cli"):
        capstone.add_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tlcourse`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
