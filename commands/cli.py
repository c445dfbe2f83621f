"""Argument parsing and dispatch; user errors become one line and exit 2."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Optional

from loguru import logger

from core.errors import UserError
from core.logs import setup_logging

GLOBAL_FLAGS = ("--debug", "-v", "-vv", "--verbose", "-q", "--quiet")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every user error
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def global_flags_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks")
    common.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    common.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = global_flags_parser()

    cfg = argparse.ArgumentParser(add_help=False)
    cfg.add_argument("-c", "--config", default="config.yaml", help="config file (default: config.yaml)")
    cfg.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config key, e.g. --set broker.volume_cap=0.1 (repeatable)")

    p = _Parser(prog="run.py", description="A-share small-cap simulator", parents=[common])
    p.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    bt = sub.add_parser("backtest", parents=[common, cfg], help="run the backtest (default)")
    bt.add_argument("--out", help="output directory (default: output.dir)")
    bt.set_defaults(func=_backtest)

    rs = sub.add_parser("research", parents=[common, cfg], help="research analytics and the crowding monitor")
    rs.add_argument("--out", help="output directory (default: output.dir); writes research/ and research.html")
    rs.set_defaults(func=_research)

    st = sub.add_parser("stress", parents=[common, cfg], help="run a grid of scenarios (execution, capacity, crowding)")
    st.add_argument("--grid", required=True, help="grid YAML: axes (a cross product) or scenarios (a list); see grids/")
    st.add_argument("--out", help="output directory (default: output.dir/stress-<grid name>); run again to resume")
    st.add_argument("--workers", type=int, default=None, help="local worker processes (default: the cores here)")
    st.add_argument("--scheduler", help="a Dask scheduler, e.g. tcp://host:8786, instead of local workers")
    st.add_argument("--episodes", help="YAML list of historical episodes (default: the shipped list); none to skip")
    st.set_defaults(func=_stress)

    paper = sub.add_parser("paper", parents=[common], help="paper trading")
    psub = paper.add_subparsers(dest="paper_command", parser_class=_Parser, required=True)
    for name in ("plan", "execute"):
        pp = psub.add_parser(name, parents=[common, cfg])
        pp.add_argument("--account", required=True)
        pp.add_argument("--date", required=True)
        pp.set_defaults(func=_not_built(f"paper {name}"))
    ps = psub.add_parser("status", parents=[common])
    ps.add_argument("--account", required=True)
    ps.add_argument("--json", action="store_true")
    ps.set_defaults(func=_not_built("paper status"))

    data = sub.add_parser("data", parents=[common], help="market data tools")
    dsub = data.add_subparsers(dest="data_command", parser_class=_Parser, required=True)
    gen = dsub.add_parser("generate", parents=[common], help="write the embedded synthetic market")
    gen.add_argument("--out", required=True)
    gen.add_argument("--stocks", type=int)
    gen.add_argument("--start")
    gen.add_argument("--end")
    gen.add_argument("--seed", type=int)
    gen.set_defaults(func=_data_generate)
    val = dsub.add_parser("validate", parents=[common], help="check a market data directory")
    val.add_argument("dir")
    val.set_defaults(func=_data_validate)
    imp = dsub.add_parser("import", parents=[common], help="convert another source to a data directory")
    imp.add_argument("--source", required=True, choices=["qlib", "akshare", "baostock", "tushare"])
    imp.add_argument("src")
    imp.add_argument("--out", required=True)
    imp.set_defaults(func=_not_built("data import"))
    return p


def _backtest(args: argparse.Namespace) -> int:
    from commands.backtest import run_backtest_command

    return run_backtest_command(args)


def _research(args: argparse.Namespace) -> int:
    from commands.research import run_research_command

    return run_research_command(args)


def _stress(args: argparse.Namespace) -> int:
    from commands.stress import run_stress_command

    return run_stress_command(args)


def _data_generate(args: argparse.Namespace) -> int:
    from commands.data import generate_command

    return generate_command(args)


def _data_validate(args: argparse.Namespace) -> int:
    from commands.data import validate_command

    return validate_command(args)


def _not_built(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        raise UserError(f"'{name}' is not built yet in this version; see the README's roadmap")
    return run


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("ashare-smallcap-sim")
    except metadata.PackageNotFoundError:
        return "unknown (not installed; run make)"


def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # Global flags (--debug, -v, -q) may stand before a command. They are read here: argparse lets a
    # subcommand's own defaults overwrite them (run.py --debug backtest would lose --debug).
    lead = 0
    while lead < len(argv) and argv[lead] in GLOBAL_FLAGS:
        lead += 1
    leading, argv = global_flags_parser().parse_args(argv[:lead]), argv[lead:]
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["backtest", *argv]           # no command means backtest
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    args.debug = args.debug or leading.debug
    args.verbose = max(args.verbose, leading.verbose)
    args.quiet = args.quiet or leading.quiet
    level = "DEBUG" if args.verbose >= 1 else ("WARNING" if args.quiet else "INFO")
    setup_logging(level)
    args.log_level_forced = args.verbose >= 1 or args.quiet
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # `run.py ... | head`: the reader left; stop quietly (and keep Python from complaining at exit).
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 0
    except UserError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so, keep the traceback behind --debug
        if args.debug:
            raise
        logger.opt(exception=False).error(f"unexpected {exc.__class__.__name__}: {exc} (rerun with --debug)")
        return 1
