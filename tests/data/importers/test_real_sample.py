"""With the real data beside the repo (../shared/real or $SHARED_REAL): every traded stock-day of the qlib
sample arrives. Skipped when the data is absent (a user's clone has none)."""
import os
from pathlib import Path

import numpy as np
import pytest

from tests.data.importers.sources import read, run

ROOT = Path(__file__).resolve().parents[3]
REAL = Path(os.environ.get("SHARED_REAL", ROOT.parent / "shared" / "real"))
SAMPLE = REAL / "qlib_sample"
pytestmark = pytest.mark.skipif(not (SAMPLE / "features").is_dir(), reason=f"no real data at {SAMPLE}")


def _bin(path: Path) -> tuple[int, np.ndarray]:
    a = np.fromfile(path, dtype="<f4")
    return int(a[0]), a[1:]


def test_every_traded_stock_day_of_the_qlib_sample_arrives(tmp_path, capsys):
    out = tmp_path / "m"
    code, _, err = run("data", "import", "--source", "qlib", str(SAMPLE), "--out", str(out), capsys=capsys)
    assert code == 0, err
    bars = read(out, "bars")
    calendar = (SAMPLE / "calendars" / "day.txt").read_text().split()
    expected = {}
    for d in (SAMPLE / "features").iterdir():
        if (d.name[:2].upper(), d.name[2:5]) in (("SH", "000"), ("SZ", "399")):
            continue                                     # index codes, not stocks
        start, vol = _bin(d / "volume.day.bin")
        expected[f"{d.name[2:]}.{d.name[:2].upper()}"] = int((vol > 0).sum())
        if d.name == "SH600107":
            s, close = _bin(d / "close.day.bin")
            _, factor = _bin(d / "factor.day.bin")
            traded = vol > 0
            raw = np.round(close[traded].astype(np.float64) / factor[traded] * 100) / 100
            got = bars[bars.symbol == "600107.SH"].sort_values("date")
            assert got["close"].tolist() == raw.tolist()
            assert got["date"].astype(str).tolist() == list(np.array(calendar[s:s + len(vol)])[traded])
    counts = bars.groupby("symbol").size().to_dict()
    assert counts == expected
    assert len(bars) == sum(expected.values())
    assert run("data", "validate", str(out))[0] == 0
