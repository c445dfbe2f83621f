"""Argument parsing and dispatch; user errors become one line and exit 2."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Callable, Optional

from loguru import logger

from ashare_sim.common.errors import UserError
from ashare_sim.common.logs import setup_logging

GLOBAL_FLAGS = ("--debug", "-v", "-vv", "--verbose", "-q", "--quiet")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every user error
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def global_flags_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks")
    common.add_argument("-v", "--verbose", action="count", default=0, help="debug logging (-vv: stress scenarios log at debug too)")
    common.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    return common


def build_parser(import_flags: bool = True) -> argparse.ArgumentParser:
    """The whole command line; `import_flags=False` leaves out `data import`'s companion flags, which read
    every importer's module (0.2 s of a backtest's start) and matter only to that command."""
    common = global_flags_parser()

    cfg = argparse.ArgumentParser(add_help=False)
    cfg.add_argument("-c", "--config", default=None,
                     help="config file or shipped preset (study); default: ./config.yaml if there is one, "
                          "else the shipped defaults")
    cfg.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config key, e.g. --set broker.volume_cap=0.1 (repeatable)")

    p = _Parser(prog=program_name(), description="A-share small-cap simulator", parents=[common])
    p.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    bt = sub.add_parser("backtest", parents=[common, cfg], help="run the backtest (default)")
    bt.add_argument("--out", help="output directory (default: output.dir)")
    bt.set_defaults(func=_command("backtest", "run_backtest_command"))

    rs = sub.add_parser("research", parents=[common, cfg], help="research analytics and the crowding monitor")
    rs.add_argument("--out", help="output directory (default: output.dir); writes research/ and research.html")
    rs.set_defaults(func=_command("research", "run_research_command"))

    st = sub.add_parser("stress", parents=[common, cfg], help="run a grid of scenarios (execution, capacity, crowding)")
    st.add_argument("--grid", required=True, help="grid YAML: axes (a cross product) or scenarios (a list); see grids/")
    st.add_argument("--out", help="output directory (default: output.dir/stress-<grid name>); run again to resume")
    st.add_argument("--workers", type=int, default=None, help="local worker processes (default: the cores here)")
    st.add_argument("--scheduler", help="a Dask scheduler, e.g. tcp://host:8786, instead of local workers")
    st.add_argument("--episodes", help="YAML list of historical episodes (default: the shipped list); none to skip")
    st.set_defaults(func=_command("stress", "run_stress_command"))

    paper = sub.add_parser("paper", parents=[common], help="paper trading")
    psub = paper.add_subparsers(dest="paper_command", parser_class=_Parser, required=True)
    pp = psub.add_parser("plan", parents=[common, cfg], help="the orders for trading day --date")
    pp.add_argument("--account", required=True, help="the paper account (SQLite file; made on the first plan)")
    pp.add_argument("--date", required=True, help="the trading day the orders execute (YYYY-MM-DD)")
    pp.add_argument("--basket", help="also write the orders as a basket CSV for a broker terminal")
    pp.set_defaults(func=_command("paper", "plan_command"))
    pe = psub.add_parser("execute", parents=[common, cfg], help="fill the plan of --date on that day's bars")
    pe.add_argument("--account", required=True)
    pe.add_argument("--date", required=True)
    pe.add_argument("--fills", help="record the fills CSV a broker terminal exported instead of simulating")
    pe.add_argument("--fills-profile", help="the layout of --fills: auto, project, qmt, ths (同花顺), tdx (通达信) "
                                            "or custom (default: paper.fills.profile)")
    pe.add_argument("--allow-duplicate-fills", action="store_true",
                    help="accept rows of --fills that repeat another exactly (two real, identical fills)")
    pe.add_argument("--allow-empty-fills", action="store_true",
                    help="accept a --fills export without fill rows (nothing was filled that day)")
    pe.set_defaults(func=_command("paper", "execute_command"))
    pr = psub.add_parser("run", parents=[common, cfg], help="the whole trading day --date for a scheduler: plan, "
                         "send or fill, execute, reconcile; the exit status says how it went")
    pr.add_argument("--account", required=True)
    pr.add_argument("--date", required=True)
    pr.add_argument("--basket", help="write the day's orders to this basket CSV (the basket route, whatever "
                                      "paper.adapter is)")
    pr.add_argument("--fills", help="the fills the terminal exported, to execute the day (the basket route)")
    pr.add_argument("--fills-profile", help="the layout of --fills (as for paper execute)")
    pr.add_argument("--allow-duplicate-fills", action="store_true", help="as for paper execute")
    pr.add_argument("--allow-empty-fills", action="store_true", help="as for paper execute")
    pr.set_defaults(func=_command("paper", "run_command"))
    ps = psub.add_parser("status", parents=[common], help="positions, cash, value, P&L, last runs")
    ps.add_argument("--account", required=True)
    ps.add_argument("--json", action="store_true", help="one JSON object")
    ps.set_defaults(func=_command("paper", "status_command"))
    pt = psub.add_parser("tca", parents=[common, cfg],
                         help="transaction costs of fills against the execution model, and k estimated from them")
    pt.add_argument("--account", help="the paper account (SQLite file) whose fills to analyse")
    pt.add_argument("--trades", help="a backtest's trades.csv to analyse instead of an account")
    pt.add_argument("--out", help="output directory (default: output.dir/tca)")
    pt.add_argument("--backtest", action="store_true",
                    help="also run the configured backtest with the configured k and with the estimate")
    pt.set_defaults(func=_command("tca", "tca_command"))

    conf = sub.add_parser("config", parents=[common], help="the configuration: write the default, show the effective one")
    csub = conf.add_subparsers(dest="config_command", parser_class=_Parser, required=True)
    ci = csub.add_parser("init", parents=[common], help="write the shipped config.yaml (every key, commented) to edit")
    ci.add_argument("path", nargs="?", default=None,
                    help="where to write it (default: ./config.yaml, or ./ashare_rules.yaml with --rules)")
    ci.add_argument("--preset", default="default", help="a shipped preset to start from (default, study)")
    ci.add_argument("--rules", action="store_true",
                    help="write the shipped rules table instead (default path ./ashare_rules.yaml; use it with "
                         "rules.table)")
    ci.set_defaults(func=_command("config", "init_command"))
    cs = csub.add_parser("show", parents=[common, cfg], help="print the effective config (file + --set) as YAML")
    cs.set_defaults(func=_command("config", "show_command"))

    data = sub.add_parser("data", parents=[common], help="market data tools")
    dsub = data.add_subparsers(dest="data_command", parser_class=_Parser, required=True)
    gen = dsub.add_parser("generate", parents=[common], help="write the embedded synthetic market")
    gen.add_argument("--out", required=True)
    gen.add_argument("--stocks", type=int)
    gen.add_argument("--start")
    gen.add_argument("--end")
    gen.add_argument("--seed", type=int)
    gen.set_defaults(func=_command("data", "generate_command"))
    val = dsub.add_parser("validate", parents=[common], help="check a market data directory")
    val.add_argument("dir")
    val.set_defaults(func=_command("data", "validate_command"))
    imp = dsub.add_parser("import", parents=[common], help="build a data directory from other sources' files",
                          description="Build a market data directory from a main bar source and companion tables. "
                                      "Companions: --KIND SOURCE:PATH (SOURCE may be left out for a file in our own "
                                      "column names). See docs/importing.md.")
    imp.add_argument("--source", help="the main (bar) source: qlib, tushare, baostock, akshare or xbx")
    imp.add_argument("src", nargs="?", help="the main source's file or folder")
    imp.add_argument("--out", help="market data directory to write (atomically)")
    imp.add_argument("--manifest", help="import manifest (YAML) instead of / besides the flags")
    imp.add_argument("--base", help="folder the manifest's relative paths are relative to (default: its base:)")
    imp.add_argument("--start", help="first date to import (YYYY-MM-DD)")
    imp.add_argument("--end", help="last date to import (YYYY-MM-DD)")
    if import_flags:
        from ashare_sim.data.importers.plan import KINDS

        for kind in KINDS.values():
            imp.add_argument(f"--{kind.name}", action="append", default=[], metavar="SOURCE:PATH",
                             help=kind.help + (" (repeatable)" if kind.many else ""))
    imp.add_argument("--option", action="append", default=[], metavar="KIND.KEY=VALUE",
                     help="an option of one source, e.g. industry.codes=FILE, benchmark.index=SH000300,SH000905, "
                          "source.volume=lots")
    imp.add_argument("--replace", action="store_true", help="replace --out when it holds a previous import")
    imp.set_defaults(func=_command("data", "import_command"))
    return p


def _command(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """The command `name` of ashare_sim.cli.<module>, imported when it runs (a command loads only what it needs)."""
    def run(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(f"ashare_sim.cli.{module}"), name)(args)
    return run


def program_name() -> str:
    """`run.py` when started through the checkout's shim, else the console command's name."""
    return "run.py" if os.path.basename(sys.argv[0]) == "run.py" else "ashare-sim"


def version() -> str:
    import ashare_sim

    return ashare_sim.__version__


def run() -> None:
    """The console command `ashare-sim`, `python -m ashare_sim` and `run.py`: a process that ends with its command."""
    sys.exit(main(sys.argv[1:], one_shot=True))


def main(argv: Optional[list[str]] = None, one_shot: bool = False) -> int:
    """The command line in this process; `one_shot`: the process ends with the command (it may keep what it
    loaded out of the garbage collector's way)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(import_flags="import" in argv)       # `data import` (or its --help) is being asked for
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
    args.one_shot = one_shot
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
