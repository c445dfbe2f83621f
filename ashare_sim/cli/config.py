"""`config init` and `config show`: a config to edit, and the config a command would run with."""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import yaml

from ashare_sim.cli.backtest import load_cli_config
from ashare_sim.common.errors import UserError
from ashare_sim.common.typed import to_plain
from ashare_sim.resources import RULES_TABLE, presets


def init_command(args: argparse.Namespace) -> int:
    shipped = presets()
    if args.preset not in shipped:
        raise UserError(f"--preset {args.preset}: not a shipped preset; choose one of {', '.join(shipped)}")
    source = RULES_TABLE if args.rules else shipped[args.preset]
    path = Path(args.path or ("ashare_rules.yaml" if args.rules else "config.yaml"))
    if path.exists():
        raise UserError(f"{path}: already exists; give another path or remove it first (nothing was written)")
    if not path.parent.is_dir():
        raise UserError(f"{path}: the folder {path.parent} does not exist; create it or give another path")
    shutil.copyfile(source, path)
    if args.rules:
        print(f"wrote {path} (the shipped rules table); edit it and run with --set rules.table={path}")
    else:
        print(f"wrote {path} (the shipped {args.preset} config); edit it and run with -c {path}")
    return 0


def show_command(args: argparse.Namespace) -> int:
    cfg = load_cli_config(args)
    print(yaml.safe_dump(to_plain(cfg), sort_keys=False, allow_unicode=True), end="")
    return 0
