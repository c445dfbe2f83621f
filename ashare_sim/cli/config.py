"""`config init` and `config show`: a config to edit, and the config a command would run with."""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import yaml

from ashare_sim.cli.backtest import load_cli_config
from ashare_sim.common.errors import UserError
from ashare_sim.common.typed import to_plain
from ashare_sim.resources import presets


def init_command(args: argparse.Namespace) -> int:
    shipped = presets()
    if args.preset not in shipped:
        raise UserError(f"--preset {args.preset}: not a shipped preset; choose one of {', '.join(shipped)}")
    path = Path(args.path)
    if path.exists():
        raise UserError(f"{path}: already exists; give another path or remove it first (nothing was written)")
    if not path.parent.is_dir():
        raise UserError(f"{path}: the folder {path.parent} does not exist")
    shutil.copyfile(shipped[args.preset], path)
    print(f"wrote {path} (the shipped {args.preset} config); edit it and run with -c {path}")
    return 0


def show_command(args: argparse.Namespace) -> int:
    cfg = load_cli_config(args)
    print(yaml.safe_dump(to_plain(cfg), sort_keys=False, allow_unicode=True), end="")
    return 0
