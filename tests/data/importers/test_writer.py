"""`data import --replace` switches the market in whole, keeps the user's files safe and follows a link."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ashare_sim.common import outdir
from ashare_sim.common.errors import UserError
from ashare_sim.data.importers.writer import STAMP, write_market

ROOT = Path(__file__).resolve().parents[3]


def fill_with(tag):
    def fill(tmp):
        (tmp / "bars.parquet").write_text(tag)
        (tmp / "instruments.parquet").write_text(tag)
        return {"tag": tag}
    return fill


def tag_of(out):
    return json.loads((out / STAMP).read_text())["tag"]


def test_replace_refuses_to_remove_files_that_are_not_the_import(tmp_path):
    out = tmp_path / "m"
    write_market(out, False, fill_with("old"))
    (out / "notes.txt").write_text("mine")
    (out / "out").mkdir()                                # a backtest written into the market folder
    with pytest.raises(UserError, match=r"--replace would remove files that are not part of the import "
                                        r"\(notes.txt, out/\)"):
        write_market(out, True, fill_with("new"))
    assert tag_of(out) == "old" and (out / "notes.txt").read_text() == "mine"
    (out / "notes.txt").unlink()
    (out / "out").rmdir()
    write_market(out, True, fill_with("new"))
    assert tag_of(out) == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_replace_through_a_link_replaces_the_folder_it_points_at(tmp_path):
    real = tmp_path / "markets" / "real"
    write_market(real, False, fill_with("old"))
    link = tmp_path / "current"
    link.symlink_to(real)
    write_market(link, True, fill_with("new"))
    assert link.is_symlink() and tag_of(link) == "new" and tag_of(real) == "new"
    assert sorted(p.name for p in real.parent.iterdir()) == ["real"]          # nothing left aside


CHILD = r"""
import os, signal, sys
from pathlib import Path
from ashare_sim.common import outdir
from ashare_sim.data.importers.writer import write_market
out = Path(sys.argv[1])
def fill(tag):
    def f(tmp):
        (tmp / "bars.parquet").write_text(tag)
        return {"tag": tag}
    return f
write_market(out, False, fill("old"))
outdir._exchange = lambda a, b: False                  # the two-rename switch
real = outdir.os.rename
calls = [0]
def rename(a, b):
    real(a, b)
    calls[0] += 1
    if calls[0] == 1:
        os.kill(os.getpid(), signal.SIGKILL)          # between the two renames
outdir.os.rename = rename
write_market(out, True, fill("new"))
"""


def test_a_kill_between_the_two_renames_leaves_the_old_market_to_put_back(tmp_path):
    out = tmp_path / "m"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(out)], cwd=ROOT, timeout=60)
    assert proc.returncode == -9 and not out.exists()
    write_market(out, True, fill_with("newer"))           # the next import puts the old one back, then replaces it
    assert tag_of(out) == "newer"
    outdir.recover(out, (STAMP,))
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_a_backtest_is_never_written_inside_the_market_folder(tmp_path, capsys):
    import datetime as dt

    from ashare_sim.cli.main import main
    from ashare_sim.data.synthetic.generator import generate_market
    generate_market(tmp_path / "m", stocks=12, start=dt.date(2020, 1, 1), end=dt.date(2020, 2, 28), seed=1)
    code = main(["-q", "backtest", "--set", f"data.path={tmp_path / 'm'}", "--out", str(tmp_path / "m" / "out")])
    assert code == 2 and "inside the market data directory" in capsys.readouterr().err
    assert not (tmp_path / "m" / "out").exists()
