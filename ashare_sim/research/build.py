"""`run_research`: every research table of one market and config, in memory.

The configured scoring pipeline runs once (signals.pipeline.build_targets, the book the
backtest trades); its targets feed the exposure and crowding steps. The window is
[backtest.start, backtest.end].
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd
from loguru import logger

from ashare_sim.common.logs import progress
from ashare_sim.research import crowding as crowd_mod
from ashare_sim.research import exposure, neutral, size_groups, smallest, valuation
from ashare_sim.signals.pipeline import SignalResult, build_targets


@dataclass
class ResearchResult:
    size_monthly: pd.DataFrame        # index rebalance date; groups 1..G, market
    size_groups: pd.DataFrame         # era, group, excess_annual_return, ...
    smallest_levels: pd.DataFrame     # index date; smallest<N>, pool[, benchmark]
    smallest_base: pd.Series          # each level the day before the window
    smallest_by_year: pd.DataFrame    # year, smallest<N>, pool[, benchmark]
    valuation: pd.DataFrame           # date, pb_median, ...
    exposure: pd.DataFrame            # date, size, value, ...
    industry: pd.DataFrame            # date, industry, portfolio, pool, active
    crowding: pd.DataFrame            # date, pool_pe_percentile, ...
    worst_days: pd.DataFrame
    flag: crowd_mod.Flag
    signal: SignalResult
    neutral: neutral.Comparison | None
    smallest_rates: dict = field(default_factory=dict)   # whole-window annual rate of each smallest_levels column
    crowding_words: dict = field(default_factory=dict)   # crowding indicator -> its words, in the indicators' order
    source: str = ""
    window: tuple[str, str] = ("", "")
    timings: dict[str, float] = field(default_factory=dict)
    cfg: object = field(default=None, repr=False)

    # ----- the summary tables research.html shows (computed here, rendered there) -----------------
    @property
    def size_table(self) -> tuple[pd.DataFrame, pd.Series]:
        """(group x era excess, in the eras' order; the equal-weight market's annual return by era)."""
        sg = self.size_groups
        wide = sg.pivot(index="group", columns="era", values="excess_annual_return")
        wide = wide[list(dict.fromkeys(sg["era"]))]
        return wide, sg.drop_duplicates("era").set_index("era")["market_annual_return"]

    @property
    def exposure_summary(self) -> pd.DataFrame:
        """style -> mean, latest and std of the book's z-score through time."""
        e = self.exposure.drop(columns="date")
        return pd.DataFrame({"mean": e.mean(), "latest": e.iloc[-1], "std": e.std()})

    @property
    def industry_summary(self) -> tuple[pd.DataFrame, pd.Series, int, object]:
        """(industry -> mean portfolio, pool and active weight, most active first; the active weight on the
        last signal day; the months averaged; that last day)."""
        w = self.industry
        months = w["date"].nunique()
        mean = w.groupby("industry")[["portfolio", "pool"]].sum() / months
        mean["active"] = mean["portfolio"] - mean["pool"]
        last_day = w["date"].max()
        last = w[w["date"] == last_day].set_index("industry")["active"]
        return mean.sort_values("active", ascending=False), last, months, last_day

    def write(self, out) -> list[str]:
        """research/*.csv and research.html in `out`, as one set; returns the file names under research/."""
        from ashare_sim.research.outputs import write_research

        return write_research(out, self, self.cfg)


def run_research(market, cfg) -> ResearchResult:
    from ashare_sim.backtest.run import run_window

    i0, i1 = run_window(market, cfg)          # a window without a trading day is the user's error, said once
    timings: dict[str, float] = {}
    parts: dict[str, object] = {}
    # (key, label, step): each step reads what the earlier ones left in `parts`.
    steps = [
        ("signal", "scoring pipeline", lambda p: build_targets(market, cfg)),
        ("size_monthly", "size groups", lambda p: size_groups.monthly_group_returns(market, cfg)),
        ("levels", "smallest-N vs pool", lambda p: smallest.levels(market, cfg)),
        ("valuation", "pool valuations", lambda p: valuation.pool_valuation(market, cfg)),
        ("exposure", "style exposure", lambda p: exposure.style_exposure(market, cfg, p["signal"].targets)),
        ("industry", "industry weights", lambda p: exposure.industry_weights(market, cfg, p["signal"].targets)),
        ("crowding", "crowding", lambda p: crowd_mod.crowding(market, cfg, p["signal"].targets, p["valuation"])),
        ("neutral", "industry-neutral comparison", lambda p: neutral.compare(market, cfg, p["signal"])),
    ]
    for key, label, step in progress(steps, desc="research", total=len(steps)):
        mark = time.perf_counter()
        parts[key] = step(parts)
        timings[label] = time.perf_counter() - mark
        logger.debug(f"research: {label} in {timings[label]:.1f} s")
    levels, base = parts["levels"]
    crowd = parts["crowding"]
    return ResearchResult(
        size_monthly=parts["size_monthly"],
        size_groups=size_groups.era_excess(parts["size_monthly"], cfg.research.eras),
        smallest_levels=levels,
        smallest_base=base,
        smallest_by_year=smallest.by_year(levels, base),
        valuation=parts["valuation"],
        exposure=parts["exposure"],
        industry=parts["industry"],
        crowding=crowd,
        worst_days=crowd_mod.worst_days(crowd, cfg.research.worst_days),
        flag=crowd_mod.flag(crowd, cfg.research),
        signal=parts["signal"],
        neutral=parts["neutral"],
        smallest_rates=smallest.annual_rates(levels, base),
        crowding_words={n: crowd_mod.WORDS[n] for n in crowd_mod.INDICATORS},
        source=str(market.source),
        window=(str(market.date_at(i0)), str(market.date_at(i1))),
        timings=timings,
        cfg=cfg,
    )
