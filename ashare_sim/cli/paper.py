"""`paper plan | execute | status`: a paper account run forward one trading day at a time."""
from __future__ import annotations

import argparse
import json
import sys

from ashare_sim.cli.backtest import load_cli_config
from ashare_sim.common.errors import UserError
from ashare_sim.data.open import open_market
from ashare_sim.paper.account import PaperAccount, RunStatus
from ashare_sim.paper.fills import profile_named
from ashare_sim.paper.live import BrokerError
from ashare_sim.paper.session import parse_day


def plan_command(args: argparse.Namespace) -> int:
    cfg = load_cli_config(args)
    parse_day(args.date)                        # a bad date before the market is read
    summary = PaperAccount(args.account, cfg, _market(cfg)).plan(args.date, args.basket)
    print(plan_text(summary, args.basket))
    return 0


def _checked_config(args: argparse.Namespace):
    """The config, with the date and the fills profile checked before the market is read."""
    cfg = load_cli_config(args)
    parse_day(args.date)
    if args.fills_profile is not None:
        if args.fills is None:
            raise UserError("--fills-profile: give the --fills FILE it reads")
        profile_named(args.fills_profile, cfg.paper.fills)
    return cfg


def execute_command(args: argparse.Namespace) -> int:
    cfg = _checked_config(args)
    summary = PaperAccount(args.account, cfg, _market(cfg)).execute(args.date, args.fills, args.allow_duplicate_fills,
                                                                     args.fills_profile, args.allow_empty_fills)
    print(execute_text(summary))
    return 0


def run_command(args: argparse.Namespace) -> int:
    cfg = _checked_config(args)
    try:
        out = PaperAccount(args.account, cfg, _market(cfg)).run(
            args.date, args.basket, args.fills, args.fills_profile, allow_duplicate_fills=args.allow_duplicate_fills,
            allow_empty_fills=args.allow_empty_fills)
    except BrokerError as exc:
        print(f"error: paper.adapter {cfg.paper.adapter}: {exc}", file=sys.stderr)
        return int(RunStatus.ERROR)
    print(run_text(out))
    return int(out["status"])


def _market(cfg):
    return lambda: open_market(cfg)          # read after the arguments are checked


def status_command(args: argparse.Namespace) -> int:
    s = PaperAccount(args.account, None).status()
    if args.json:
        keys = ("last_date", "cash", "value", "positions", "open_orders", "start_date", "start_cash", "pnl", "return",
                "last_runs")
        print(json.dumps({k: s[k] for k in keys}, indent=2))
    else:
        print(status_text(s))
    return 0


# ----- what the terminal shows ---------------------------------------------------------------
def plan_text(s: dict, basket: str | None) -> str:
    lines = [f"plan {s['date']}: {s['kind']}, from the close of {s['signal_date']}; account value "
             f"{s['value']:,.0f} CNY, cash {s['cash']:,.0f}; {len(s['orders'])} order(s)"]
    if s["orders"]:
        lines.append(f"  {'side':<5} {'symbol':<10} {'qty':>9} {'last close':>10} {'lot':>7} {'sellable':>9}  notes")
        for o in s["orders"]:
            notes = [n for n, on in (("suspended on the last close", o["suspended_last_close"]),
                                     ("closed at its limit", o["at_limit_last_close"]),
                                     (f"retry #{o['attempt']}", o["attempt"] > 0)) if on]
            lines.append(f"  {o['side']:<5} {o['symbol']:<10} {o['qty']:>9,} {o['last_close'] or float('nan'):>10.2f} "
                         f"{o['lot']:>7} {'' if o['sellable'] is None else format(o['sellable'], ','):>9}  "
                         + "; ".join(notes))
    if s["skipped"]:
        lines.append("targets without an order: " + ", ".join(f"{k} {v}" for k, v in s["skipped"].items()))
    if basket:
        lines.append(f"basket written to {basket}")
    return "\n".join(lines)


def execute_text(s: dict) -> str:
    if s.get("done"):
        return f"{s['date']} is already executed: nothing done (the account is unchanged)"
    lines = [f"executed {s['date']}" + (" (planned now: there was no plan)" if s["planned_now"] else "")
             + (f", after {s['caught_up_days']} trading day(s) without a run (their corporate actions applied)"
                if s["caught_up_days"] else ""),
             f"  orders {s['orders']}: {s['filled']} filled, {s['partial']} partial, {s['rejected']} rejected"
             + (" (" + ", ".join(f"{k} {v}" for k, v in s["reasons"].items()) + ")" if s["reasons"] else ""),
             f"  traded {s['traded_value']:,.0f} CNY, fees {s['costs']:,.2f} CNY; cash {s['cash']:,.2f}, value "
             f"{s['value']:,.2f} CNY, {s['positions']} position(s); {s['retries_left']} remainder(s) to retry"]
    read = s.get("fills_file")
    if read:
        model = read["fees_from_model"]
        notes = [n for n, on in ((f"{', '.join(model)} from the config's cost model (the export has no column for "
                                  f"{'them' if len(model) > 1 else 'it'})", bool(model)),
                                 ("times without a date taken as the --date day", read["dated_by_run"]),
                                 (f"{read.get('skipped_rows', 0)} row(s) that are not fills skipped (blank, totals, "
                                  "transfers, cancellations)", read.get("skipped_rows", 0))) if on]
        lines.append(f"  fills file read as {read['profile']}: {read['rows']} row(s)" + "".join(f"; {n}" for n in notes))
    return "\n".join(lines)


def run_text(out: dict) -> str:
    lines = []
    if "plan" in out:
        lines.append(plan_text(out["plan"], None))
    sess = out.get("session")
    if sess:
        lines.append(f"sent to {out['adapter']}: {sess['sent']} order(s) sent, {sess['adopted']} found already at the "
                     f"broker (not sent again); {sess['filled_orders']} filled, {sess['partial_orders']} partly, "
                     f"{sess['cancelled']} cancelled, {len(sess['rejected'])} rejected; {sess['fills']} fill(s)"
                     + (f", {sess['duplicate_fills']} repeated report(s) ignored" if sess["duplicate_fills"] else "")
                     + (f", {sess['reconnects']} reconnect(s)" if sess["reconnects"] else ""))
        lines += [f"  rejected {remark}: {msg}" for remark, msg in sess["rejected"].items()]
    if "execute" in out:
        lines.append(execute_text(out["execute"]))
    if out.get("differences"):
        lines.append(f"the broker differs from the ledger ({len(out['differences'])}); nothing was changed on "
                     "either side:")
        lines += [f"  {d}" for d in out["differences"]]
    status = RunStatus(out["status"])
    lines.append(f"status {int(status)} ({status.name.lower().replace('_', ' ')})"
                 + (f": {out['message']}" if out.get("message") else ""))
    return "\n".join(lines)


def status_text(s: dict) -> str:
    lines = [f"account {s['account']} (since {s['start_date']} with {s['start_cash']:,.0f} CNY), last executed "
             f"{s['last_date'] or 'never'}",
             f"  value {s['value']:,.2f} CNY, cash {s['cash']:,.2f}, P&L {s['pnl']:+,.2f} ({s['return']:+.2%}); "
             f"{s['open_orders']} open order(s)"]
    if s["positions"]:
        lines.append(f"  {'symbol':<10} {'qty':>9} {'sellable':>9} {'avg cost':>9}")
        lines += [f"  {p['symbol']:<10} {p['qty']:>9,} {p['sellable_qty']:>9,} {p['avg_cost']:>9.3f}"
                  for p in s["positions"]]
    if s["last_runs"]:
        lines.append("  last runs: " + "; ".join(f"{r['command']} {r['date']} at {r['at']}" for r in s["last_runs"]))
    return "\n".join(lines)
