"""The plan is checked before any work: each bad key, source, kind, option or path is named."""
import pytest

from ashare_sim.common.errors import UserError
from ashare_sim.data.importers.plan import build_plan


@pytest.fixture
def src(tmp_path):
    (tmp_path / "q").mkdir()
    (tmp_path / "f.parquet").write_text("x")
    return tmp_path


def plan(src, **kw):
    args = dict(source="qlib", src=str(src / "q"), out=str(src / "out"))
    args.update(kw)
    return build_plan(args.pop("source"), args.pop("src"), args.pop("out"), **args)


@pytest.mark.parametrize("kw, needle", [
    (dict(source="qlbi"), "unknown source 'qlbi' (did you mean 'qlib'?)"),
    (dict(source="eastmoney"), "--source eastmoney: gives no bars"),
    (dict(companions={"st": ["eastmoney:{f}"]}), "--st eastmoney:"),
    (dict(companions={"st": ["eastmoney:{f}"]}), "sources for st: baostock, table, tushare, xbx"),
    (dict(companions={"fundamentals": ["eastmoney:{d}/nope.parquet"]}), "nope.parquet: no such file or directory"),
    (dict(companions={"fundamentals": ["eastmony:{f}"]}), "unknown source 'eastmony' (did you mean 'eastmoney'?)"),
    (dict(companions={"dividends": ["tushare:{f}", "tushare:{f}"]}), "--dividends: given 2 times"),
    (dict(options=["industry.codes=x"]), "no --industry source is given to take it"),
    (dict(options=["benchmrk.index=SH000300"]), "unknown kind 'benchmrk' (did you mean 'benchmark'?)"),
    (dict(options=["source.volum=lots"]), "unknown option 'volum' for source 'qlib' (did you mean 'volume'?)"),
    (dict(start="2020-13-01"), "--start '2020-13-01': not a date"),
    (dict(start="2021-01-01", end="2020-01-01"), "--end 2020-01-01 is before --start 2021-01-01"),
    (dict(out=None), "--out DIR is required"),
])
def test_bad_plans_are_named(src, kw, needle):
    for k, v in kw.get("companions", {}).items():
        kw["companions"] = {k: [x.format(f=src / "f.parquet", d=src) for x in v]}
    with pytest.raises(UserError) as exc:
        plan(src, **kw)
    assert needle in str(exc.value)


def test_manifest_keys_and_relative_paths(src):
    m = src / "import.yaml"
    m.write_text("source: qlib\npath: q\nfundamentals: {source: eastmoney, path: f.parquet}\n"
                 "benchmark: {source: qlib, path: q, index: [SH000300]}\n")
    p = build_plan(None, None, str(src / "out"), manifest=str(m))
    assert p.main.path == src / "q"
    assert p.entries("fundamentals")[0].path == src / "f.parquet"
    assert p.entries("benchmark")[0].settings == {"index": ["SH000300"]}
    m.write_text("source: qlib\npath: q\nfundamental: {source: eastmoney, path: f.parquet}\n")
    with pytest.raises(UserError, match=r"import.yaml: key 'fundamental': unknown \(did you mean 'fundamentals'\?\)"):
        build_plan(None, None, str(src / "out"), manifest=str(m))


def test_an_existing_directory_that_is_not_an_import_is_refused(src):
    (src / "out").mkdir()
    (src / "out" / "mine.txt").write_text("keep me")
    with pytest.raises(UserError, match="already exists and is not an import of ours"):
        plan(src, replace=True)
