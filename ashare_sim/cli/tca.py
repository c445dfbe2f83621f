"""`paper tca`: a paper account's fills, or a backtest's trades.csv, against the configured execution model."""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from ashare_sim.api import transaction_costs
from ashare_sim.cli.backtest import load_cli_config
from ashare_sim.common.errors import UserError
from ashare_sim.common.outdir import check_output_dir
from ashare_sim.common.text import shown_path
from ashare_sim.data.open import check_output_outside_market
from ashare_sim.metrics.tca import TcaResult, k_text

# The folder under output.dir a report goes to without --out.
DEFAULT_SUBDIR = "tca"


def tca_command(args: argparse.Namespace) -> int:
    if (args.account is None) == (args.trades is None):
        raise UserError("paper tca: give exactly one of --account DB (a paper account's fills) or --trades FILE (a "
                        "backtest's trades.csv)" + (", not both" if args.account is not None else ""))
    cfg = load_cli_config(args)
    out = Path(args.out) if args.out else Path(cfg.output.dir) / DEFAULT_SUBDIR
    check_output_dir(out)                   # before reading anything: a bad --out costs nothing
    check_output_outside_market(out, cfg)
    result = transaction_costs(cfg=cfg, account=args.account, trades=args.trades, out=out, backtest=args.backtest)
    print(summary_text(result, out))
    return 0


def summary_text(r: TcaResult, out: Path) -> str:
    """Fills, the k estimate with its interval and n, the configured k, the mean shortfalls; the files hold the rest."""
    s, k = r.summary, r.k

    def bp(key: str) -> str:
        v = s.get(key)
        return "n/a" if v is None or not math.isfinite(v) else f"{v:+.1f} bp"

    excluded = ", ".join(f"{reason} {n:,}" for reason, n in k.excluded.items()) or "none"
    lines = [f"TCA of {s['fills']:,} fills from {r.source}, {s['first_date']}..{s['last_date']} ({s['days']:,} days, "
             f"{s.get('notional') or 0:,.0f} CNY)",
             f"  k estimate     {k_text(k, 4)}",
             f"                 left out: {excluded}",
             f"  configured k   {k.configured_k:g} ({k.configured_model})",
             f"  shortfall      {bp('is_decision_bp')} vs decision, {bp('is_arrival_bp')} vs arrival, "
             f"{bp('is_vwap_bp')} vs VWAP (notional-weighted)",
             f"  slippage       {bp('slippage_bp')} vs the deal price (model {bp('predicted_slippage_bp')}); fees "
             f"{bp('fees_bp')}"]
    for run in (r.comparison or {}).get("runs", []):
        lines.append(f"  backtest, {run['label']} {run['k']:.4f}: annual {_pct(run['annual_return'])}, IR "
                     f"{_num(run['information_ratio'])}, final value {_num(run['final_value'], ',.0f')} CNY, slippage "
                     f"{_num(run['slippage'], ',.0f')} CNY")
    if (r.comparison or {}).get("skipped"):
        lines.append(f"  backtest       not run: {r.comparison['skipped']}")
    lines += [f"  note: {n}" for n in r.notes]
    names = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    lines.append(f"files in {shown_path(out)}/: " + " ".join(names))
    return "\n".join(lines)


def _pct(v) -> str:
    return "n/a" if v is None else f"{v:+.1%}"


def _num(v, fmt: str = ".2f") -> str:
    return "n/a" if v is None else format(v, fmt)
