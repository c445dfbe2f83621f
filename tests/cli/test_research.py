"""`run.py research` end to end on a small generated market: exit status, message, files on disk."""
import contextlib
import datetime as dt
import io
import re

import pandas as pd
import pytest

from ashare_sim.cli.main import main
from tests.cli.test_main import run_cli

generator = pytest.importorskip("ashare_sim.data.synthetic.generator")
pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")

SPEC_COLUMNS = {
    "size_groups.csv": ["era", "group", "excess_annual_return"],
    "smallest100.csv": ["year", "smallest100", "pool", "benchmark"],
    "valuation.csv": ["date", "pb_median", "pe_ttm_median", "pb_percentile", "pe_ttm_percentile"],
    "crowding.csv": ["date", "pool_pe_percentile", "smallcap_turnover_share", "participation", "days_to_exit",
                     "limit_down_names"],
}


@pytest.fixture(scope="module")
def market_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("research") / "market"
    generator.generate_market(out, stocks=100, start=dt.date(2016, 1, 1), end=dt.date(2018, 6, 30), seed=5)
    return out


def sets(market_dir, *extra):
    return ["--set", f"data.path={market_dir}", "--set", "backtest.start=2016-06-01",
            "--set", "backtest.end=2018-06-30", "--set", "strategy.top_n=10", "--set", "broker.cash=2000000",
            "--set", "strategy.factors.ic_min_periods=6", "--set", "strategy.factors.ic_window=12", *extra]


@pytest.fixture(scope="module")
def outputs(market_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("research_out") / "run"
    (out / "research").mkdir(parents=True)
    (out / "research" / "stale.csv").write_text("from an earlier run\n")
    # a backtest report already in the directory: it gains the link
    (out / "report.html").write_text("<html><nav><a href=\"#summary\">Summary</a><!--links--><!--/links--></nav></html>")
    # ... both written by this simulator (their manifests), so the directory may be reused
    (out / "run.json").write_text('{"files": ["report.html"]}')
    (out / "research.json").write_text('{"files": ["research"]}')
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["research", "--out", str(out), *sets(market_dir)]) == 0
    (out / "printed.txt").write_text(printed.getvalue())
    return out


def test_spec_files_with_their_columns(outputs):
    for name, cols in SPEC_COLUMNS.items():
        df = pd.read_csv(outputs / "research" / name)
        assert list(df.columns[: len(cols)]) == cols, name
        assert len(df) > 0, name
    groups = pd.read_csv(outputs / "research" / "size_groups.csv")
    assert sorted(groups["group"].unique()) == list(range(1, 21))
    assert set(groups["era"]) == {"2010-2016", "2017-2021-01"}          # the window has no month of the third era
    crowd = pd.read_csv(outputs / "research" / "crowding.csv")
    assert crowd["date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert crowd["date"].iloc[0] >= "2016-06-01" and crowd["date"].iloc[-1] <= "2018-06-30"


def test_an_earlier_runs_files_are_gone_and_the_pages_link_each_other(outputs):
    names = sorted(p.name for p in (outputs / "research").iterdir())
    assert "stale.csv" not in names
    assert {"style_exposure.csv", "industry_weights.csv", "neutral_ic.csv", "neutral_backtest.csv",
            "crowding_worst_days.csv", "size_groups_monthly.csv"} <= set(names)
    assert not [p for p in outputs.parent.iterdir() if p.name.startswith(".")]   # no temp dir left behind
    page = (outputs / "research.html").read_text()
    assert 'href="report.html"' in page and 'href="research.html"' in (outputs / "report.html").read_text()
    assert not re.search(r"(src|href)=\"https?://", page)
    assert page.count("data:image/png;base64,") >= 8
    for heading in ("Size structure", "Pool valuations", "Crowding monitor", "Industry-neutral scoring"):
        assert heading in page


def test_terminal_summary(outputs):
    text = (outputs / "printed.txt").read_text()
    assert "size 2010-2016" in text and "D1" in text and "crowding:" in text and "research.html" in text
    assert re.search(r"^  2017 +-?\d+\.\d%", text, re.M)                        # a by-year row


def test_bad_config_is_one_line_exit_2_and_writes_nothing(tmp_path):
    proc = run_cli("research", "--out", str(tmp_path / "x"), "--set", "research.size_groups=1")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: config key 'research.size_groups': got 1; must be >= 2"]
    assert not (tmp_path / "x").exists()


def test_bad_era_names_the_key(capsys):
    assert main(["research", "--set", "research.eras=[{name: a, start: 2020-01-01, end: 2019-01-01}]"]) == 2
    assert "config key 'research.eras[0].end': 2019-01-01 is before start 2020-01-01; swap them" in capsys.readouterr().err
    assert main(["research", "--set", "research.compare_neutral=yes please"]) == 2
    assert "choose one of none, ic, backtest" in capsys.readouterr().err


def test_industry_neutral_needs_industries(tmp_path, capsys):
    from tests.market_builder import MarketBuilder

    b = MarketBuilder(start="2021-01-04", days=30)
    b.stock("600001.SH", close=[10.0] * 30)
    directory = b.write(tmp_path / "m")
    inst = pd.read_parquet(directory / "instruments.parquet").drop(columns="industry")
    inst.to_parquet(directory / "instruments.parquet", index=False)
    assert main(["-q", "research", "--out", str(tmp_path / "o"), "--set", f"data.path={directory}",
                 "--set", "strategy.neutralize=industry", "--set", "strategy.factors.use=[size]"]) == 2
    err = capsys.readouterr().err
    assert "strategy.neutralize is 'industry' but instruments has no 'industry' column" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
