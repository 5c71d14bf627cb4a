"""``striate`` command line: ``info`` (more commands come with the Trainer)."""

from __future__ import annotations

import argparse
import sys


def _cmd_info(args: argparse.Namespace) -> int:
    import striate

    striate.show_config()
    if args.check:
        from striate.selfcheck import run_selfcheck

        ok = run_selfcheck()
        return 0 if ok else 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="striate", description="striate: CNNs on our own kernels")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    pi = sub.add_parser("info", help="print build/run-time configuration")
    pi.add_argument("--check", action="store_true",
                    help="also run a kernel self-check against the NumPy reference")
    pi.set_defaults(func=_cmd_info)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
