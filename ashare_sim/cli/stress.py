"""`stress`: the command over stress.run.run_stress: config + grid -> one backtest per scenario (DIR/scenarios/<name>/) -> stress.csv, episodes.csv,
stress.html in DIR.

Everything the user can get wrong (config, grid, episodes, --out, --workers) is checked before any
scenario runs. The directory is marked as a stress set first (stress.json), so a grid stopped half
way (Ctrl-C, a killed machine) can be run again into the same DIR: finished scenarios with the same
inputs are reused, the rest run. Exit status 0 when every scenario ran, 1 when some failed (each
failure is a row of stress.csv with its error), 2 for bad usage, 130 on Ctrl-C.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ashare_sim.cli.backtest import load_cli_config
from ashare_sim.common.text import shown_path
from ashare_sim.stress.grid import Grid
from ashare_sim.stress.outputs import (
    capacity_text,
    episodes_text,
    reference_scenario,
    scenarios_text,
)
from ashare_sim.stress.run import run_stress


def run_stress_command(args: argparse.Namespace) -> int:
    cfg = load_cli_config(args)
    r = run_stress(cfg, args.grid, args.out, workers=args.workers, scheduler=args.scheduler, episodes=args.episodes,
                   config_name=str(args.config or "default"), verbose=getattr(args, "verbose", 0), quiet=getattr(args, "quiet", False))
    print(summary(r.grid, r.table, r.curves, r.episodes, r.out, r.files, r.runner, r.seconds))
    return 1 if r.failed else 0


def summary(grid: Grid, table, curves, episodes, out: Path, files: list[str], label: str, seconds: float) -> str:
    ok = int((table["status"] == "ok").sum())
    reused = int(table["reused"].sum())
    lines = [f"stress grid {grid.label}: {len(table)} scenarios ({ok - reused} ran, {reused} reused, "
             f"{len(table) - ok} failed) on {label} in {seconds:.0f} s"]
    lines += scenarios_text(table)
    lines += capacity_text(curves)
    ref = reference_scenario(table)
    if ref is not None:
        lines += episodes_text(episodes, ref)
    lines.append(f"files in {shown_path(out)}/: {' '.join(files)} scenarios/ ({len(table)} backtest folders)")
    return "\n".join(lines)
