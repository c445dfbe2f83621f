"""`data generate` and `data validate`."""
from __future__ import annotations

import argparse
from pathlib import Path

from ashare_sim.common.errors import UserError
from ashare_sim.common.typed import parse_date
from ashare_sim.config.schema import GenerateConfig


def generate_command(args: argparse.Namespace) -> int:
    base = GenerateConfig()
    try:
        start = parse_date(args.start, "--start") if args.start else base.start
        end = parse_date(args.end, "--end") if args.end else base.end
    except UserError as exc:
        raise UserError(str(exc).replace("config key ", "")) from None
    stocks = args.stocks if args.stocks is not None else base.stocks
    seed = args.seed if args.seed is not None else base.seed
    if stocks < 10:
        raise UserError(f"--stocks {stocks}: need at least 10")
    if end <= start:
        raise UserError(f"--end {end} is not after --start {start}")
    from ashare_sim.data.synthetic.generator import generate_market

    generate_market(Path(args.out), stocks=stocks, start=start, end=end, seed=seed)
    return 0


def validate_command(args: argparse.Namespace) -> int:
    from ashare_sim.data.validate import validate_directory

    report = validate_directory(Path(args.dir))
    print(report.render())
    return 0 if report.ok else 2


def import_command(args: argparse.Namespace) -> int:
    from ashare_sim.data.importers.plan import KINDS, build_plan
    from ashare_sim.data.importers.run import run_import

    plan = build_plan(args.source, args.src, args.out, manifest=args.manifest, start=args.start, end=args.end,
                      companions={k: getattr(args, k) for k in KINDS}, options=args.option, replace=args.replace,
                      base=args.base)
    text, _ = run_import(plan)
    print(text)
    return 0
