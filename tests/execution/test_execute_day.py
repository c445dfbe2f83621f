"""A day's orders judged together (`ExecutionCore.execute_day`) give what `execute` gives order after order, to
the bit: outcomes, fill prices and fees, the account and every log; and each model's array form gives what its
one-order form gives. Random days of orders on a generated market, under the settings a stress grid varies."""
import datetime as dt
import math
import zlib

import numpy as np
import pytest

from ashare_sim.config import load_config
from ashare_sim.data.market import load_market
from ashare_sim.execution.context import context_from_market, day_orders_from_market
from ashare_sim.execution.core import BATCH_MIN_ORDERS, ExecutionCore, has_array_form
from ashare_sim.execution.models.validators import Suspended
from ashare_sim.execution.orders import OrderRequest, Side
from tests.conftest import generated_market

SETTINGS = {
    "defaults": [],
    "open_bps_no_cap": ["broker.deal_price=open", "broker.slippage.model=fixed_bps", "broker.slippage.bps=30",
                        "broker.volume_cap=null"],
    "close_ticks_locked_no_lots": ["broker.deal_price=close", "broker.slippage.model=ticks",
                                   "broker.slippage.ticks=2", "broker.limit_rule=locked", "broker.lot_size=false",
                                   "broker.volume_cap=0.03"],
    "no_t1_no_limits_flat_fees": ["broker.t_plus_1=false", "broker.limit_rule=off", "broker.stamp_duty=0.002",
                                  "broker.transfer_fee=0.0001", "broker.commission.min=50"],
    "crowded_tight_cap": ["broker.crowd=20", "broker.volume_cap=0.02", "broker.slippage.impact=0.8"],
}


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    return load_market(generated_market(tmp_path_factory, "execute_day", 70, dt.date(2019, 1, 1),
                                        dt.date(2020, 12, 31), 9))


def random_requests(market, core, t: int, rng, key: int) -> list[OrderRequest]:
    """8-40 orders in distinct stocks: sells of held names (some larger than the holding, some odd lots), sells
    of names not held, buys of round and odd quantities, some far larger than the cash or the day's volume."""
    n = int(rng.integers(BATCH_MIN_ORDERS, 41))
    held = list(core.account.positions)
    rng.shuffle(held)
    others = [s for s in rng.permutation(len(market.symbols)).tolist() if s not in core.account.positions]
    sids = held[: n // 2] + others[: n - min(len(held), n // 2)]
    out = []
    for sid in sids:
        have = core.account.qty(sid)
        if have and rng.random() < 0.7:
            side, qty = Side.SELL, int(have * rng.choice([0.5, 1.0, 1.7])) + int(rng.choice([0, 0, 37]))
        elif rng.random() < 0.1:
            side, qty = Side.SELL, int(rng.integers(1, 5)) * 100                 # nothing held
        else:
            side, qty = Side.BUY, int(rng.choice([100, 200, 1_000, 5_000, 40_000, 300_000])) + int(rng.choice([0, 0, 50]))
        key += 1
        out.append(OrderRequest(sid, str(market.symbols[sid]), side, max(qty, 1), None, 0, key))
    rng.shuffle(out)
    return out


def same(x, y) -> bool:
    """Equal to the bit, NaN equal to NaN."""
    if isinstance(x, float) and isinstance(y, float):
        return (math.isnan(x) and math.isnan(y)) or x.hex() == y.hex()
    return type(x) is type(y) and x == y


def rows_equal(a, b) -> None:
    assert len(a) == len(b)
    for left, right in zip(a, b):
        for name in left._fields:
            assert same(getattr(left, name), getattr(right, name)), (name, left, right)


def compare(got, want) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert (g.status, g.reason, g.filled_qty) == (w.status, w.reason, w.filled_qty), g.request
        assert same(g.price, w.price)
        if w.fill is not None:
            for field in ("deal", "participation", "size_after", "cost_after", "cost_before", "opened", "closed"):
                assert same(getattr(g.fill, field), getattr(w.fill, field)), field
            assert g.fill.costs == w.fill.costs


@pytest.mark.parametrize("name", list(SETTINGS))
def test_a_days_orders_together_equal_them_one_by_one(market, name):
    broker = load_config(None, ["broker.cash=3000000", *SETTINGS[name]]).broker
    together, one_by_one, brief = (ExecutionCore(market, broker) for _ in range(3))
    assert together.batches
    rng, key, days = np.random.default_rng(zlib.crc32(name.encode())), 0, 0

    def run(requests):
        got = together.execute_day(requests, t)
        # trade_day: what the retry book reads of the same outcomes, the same account and logs
        assert brief.trade_day(requests, t) == ([o.filled_qty for o in got], [o.status == "filled" for o in got],
                                                [o.reason for o in got])
        return got

    for t in range(5, market.n_days):
        for core in (together, one_by_one, brief):
            core.start_day(t)
        if t % 2:
            requests = random_requests(market, together, t, rng, key)
            key += len(requests)
            days += 1
            if t % 4 == 1:          # a second batch the same day: sells of what the first bought (T+1, the
                bought = {r.sid for r in requests if r.side == Side.BUY}         # volume already used today)
                got = run(requests)
                want = [one_by_one.execute(r, t) for r in requests]
                compare(got, want)
                requests = [OrderRequest(s, str(market.symbols[s]), Side.SELL, 1_000, None, 0, key + i)
                            for i, s in enumerate(bought, start=1) if s in together.account.positions]
                key += len(requests)
            got = run(requests)
            want = [one_by_one.execute(r, t) for r in requests]
            compare(got, want)
        for core in (together, one_by_one, brief):
            core.end_day(t)
        assert together.account.cash.hex() == one_by_one.account.cash.hex() == brief.account.cash.hex()
    for core in (together, brief):
        assert core.account.to_dict() == one_by_one.account.to_dict()
        rows_equal(core.order_log, one_by_one.order_log)
        rows_equal(core.trade_log, one_by_one.trade_log)
        assert [repr(x) for x in core.equity_log] == [repr(x) for x in one_by_one.equity_log]
    # the days covered what the rules can say
    reasons = {r.reason for r in one_by_one.order_log}
    assert days > 200 and len(one_by_one.trade_log) > 2_000
    wanted = {"suspended", "t_plus_1", "cash", "no_position", "lot_size", "volume_cap", "limit_up", "limit_down"}
    off = {"no_t1_no_limits_flat_fees": {"t_plus_1", "limit_up", "limit_down"},
           "open_bps_no_cap": {"volume_cap"}, "close_ticks_locked_no_lots": {"lot_size"}}.get(name, set())
    assert wanted - off <= reasons, wanted - off - reasons


def test_each_models_array_form_gives_its_one_order_form(market):
    for sets in SETTINGS.values():
        core = ExecutionCore(market, load_config(None, sets).broker)
        rng = np.random.default_rng(3)
        for t in range(2, market.n_days, 7):
            sids = rng.choice(len(market.symbols), 30, replace=False).tolist()
            sides = [Side.BUY if x else Side.SELL for x in rng.random(30) < 0.5]
            qtys = rng.integers(1, 50_000, 30).tolist()
            held = {s: int(q) for s, q in zip(sids, rng.integers(0, 20_000, 30)) if rng.random() < 0.5}
            core.account.positions.clear()
            for s, q in held.items():
                core.account.positions[s] = _position(market, s, q, locked=q // 3)
            b = day_orders_from_market(market, t, sids, sides, qtys, core.account)
            ctxs = [context_from_market(market, t, s, side, q, held.get(s, 0), held.get(s, 0) - held.get(s, 0) // 3)
                    for s, side, q in zip(sids, sides, qtys)]
            for v in core.validators:
                assert list(v.check_many(b)) == [v.check(c) for c in ctxs], type(v).__name__
            for limit in core.limits:
                assert limit.allowed_many(b).tolist() == [limit.allowed(c) for c in ctxs]
            deal = core.deal.model.price_many(b)
            traded = b.traded
            want = [core.deal.model.price(c) if ok else d for c, ok, d in zip(ctxs, traded, deal.tolist())]
            assert all(same(x, y) for x, y in zip(deal.tolist(), want))
            qty = np.asarray(qtys, dtype=np.int64)
            slipped = core.slippage.price_many(b, deal, qty)
            want = [core.slippage.price(c, d, q) if ok else p
                    for c, d, q, ok, p in zip(ctxs, deal.tolist(), qtys, traded, slipped.tolist())]
            assert all(same(x, y) for x, y in zip(slipped.tolist(), want))


def _position(market, sid, qty, locked):
    from ashare_sim.execution.account import Position
    return Position(sid, str(market.symbols[sid]), market.date_at(0), qty, 10.0, locked)


def test_a_model_changed_only_in_its_one_order_form_is_asked_one_order_at_a_time(market):
    class Stricter(Suspended):                    # a user's subclass: its parent's array form would be wrong
        def check(self, ctx):
            return self.reason if ctx.volume < 1e9 else None

    assert has_array_form(Suspended(None, None), "check", "check_many")
    assert not has_array_form(Stricter(None, None), "check", "check_many")
    core = ExecutionCore(market, load_config(None, []).broker)
    core.validators = [Stricter(None, None) if isinstance(v, Suspended) else v for v in core.validators]
    core.batches = all(has_array_form(v, "check", "check_many") for v in core.validators)
    assert not core.batches
    core.start_day(10)
    requests = [OrderRequest(s, str(market.symbols[s]), Side.BUY, 100, None, 0, s + 1) for s in range(20)]
    assert {o.reason for o in core.execute_day(requests, 10)} == {"suspended"}


def test_a_buy_the_cash_covers_but_for_its_commission_minimum_is_cut_as_one_by_one(market):
    """The cash a day's buys find is a running sum; a buy whose shares and rates fit but whose commission minimum
    does not is cut, as `execute` cuts it (and with 2 CNY more, every buy fills)."""
    from ashare_sim.execution.account import Account
    broker = load_config(None, []).broker
    t = 30
    probe = ExecutionCore(market, broker)
    probe.start_day(t)
    asked = [OrderRequest(s, str(market.symbols[s]), Side.BUY, 100, None, 0, s + 1) for s in range(len(market.symbols))]
    filled = [(r, o) for r, o in zip(asked, [probe.execute(r, t) for r in asked]) if o.status == "filled"][:10]
    assert len(filled) >= BATCH_MIN_ORDERS
    assert filled[-1][1].fill.costs.commission == broker.commission.min          # the minimum binds
    cost = sum(o.fill.qty * o.fill.price + o.fill.costs.charged for _, o in filled)
    for cash, last in ((cost - 1.0, "rejected"), (cost + 1.0, "filled")):
        together = ExecutionCore(market, broker, Account(cash))
        one_by_one = ExecutionCore(market, broker, Account(cash))
        for core in (together, one_by_one):
            core.start_day(t)
        requests = [OrderRequest(r.sid, r.symbol, r.side, r.qty, None, 0, r.key) for r, _ in filled]
        got = together.execute_day(requests, t)
        compare(got, [one_by_one.execute(r, t) for r in requests])
        assert got[-1].status == last and together.account.cash.hex() == one_by_one.account.cash.hex()
        rows_equal(together.order_log, one_by_one.order_log)
        rows_equal(together.trade_log, one_by_one.trade_log)


def test_sqrt_impact_volatility_of_many_stocks_at_once_is_each_ones_to_the_bit(market):
    """`SqrtImpact.sigmas` (a day's stocks together) gives what `_sigma` gives one stock at a time, for every day
    and stock of the market: windows with a price every day, with gaps, and too short."""
    core = ExecutionCore(market, load_config(None, ["broker.slippage.model=sqrt_impact"]).broker)
    model = core.slippage
    sids = list(range(len(market.symbols)))
    gaps = whole = 0
    for t in range(market.n_days):
        model._cache.clear()
        model.sigmas(t, sids)
        for sid in sids:
            assert model._cache[t, sid].hex() == model._sigma(t, sid).hex(), (t, sid)
        a = max(0, t - model.vol_days - 1)
        missing = np.isnan(market.panels["close"][a:t]).any(axis=0)
        gaps, whole = gaps + int(missing.sum()), whole + int((~missing).sum())
    assert gaps > 1_000 and whole > 10_000
