"""kill -9 at every step of an output set's switch: `out` is always the whole old set or the whole new one."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ashare_sim.common import outdir

ROOT = Path(__file__).resolve().parents[2]

# A child that writes set "old", then set "new" with a SIGKILL at one step (a patched function).
CHILD = r"""
import os, signal, sys
from pathlib import Path
from ashare_sim.common import outdir
out, step, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

def write(tag, files):
    with outdir.output_set(out, "run.json", {"tag": tag}) as stage:
        for name in files:
            p = stage / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(tag)
            if step == "writing" and tag == "new":
                os.kill(os.getpid(), signal.SIGKILL)

write("old", ["a.csv", "b.csv", "f/x.csv"])
(out / "research.html").write_text("other set")        # another kind's file: must survive every kill
if mode == "fallback":
    outdir._exchange = lambda a, b: False

def kill_on(module, name, nth=1, after=False):
    real = getattr(module, name)
    calls = [0]
    def wrapper(*args, **kw):
        calls[0] += 1
        if calls[0] == nth and not after:
            os.kill(os.getpid(), signal.SIGKILL)
        result = real(*args, **kw)
        if calls[0] == nth and after:
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(module, name, wrapper)

if step == "linking":
    kill_on(outdir, "_link_tree", nth=1, after=True)
elif step == "exchange":
    kill_on(outdir, "_exchange")
elif step == "after_exchange":
    kill_on(outdir, "_exchange", after=True)
elif step == "between_renames":
    kill_on(outdir.os, "rename", nth=1, after=True)
elif step == "cleanup":
    kill_on(outdir.shutil, "rmtree")
write("new", ["a.csv", "c.csv", "f/y.csv"])
"""

OLD = {"a.csv": "old", "b.csv": "old", "f/x.csv": "old"}
NEW = {"a.csv": "new", "c.csv": "new", "f/y.csv": "new"}


def contents(out: Path) -> dict:
    return {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*")
            if p.is_file() and p.name not in ("run.json", "research.html")}


@pytest.mark.parametrize("mode,step", [
    ("exchange", "writing"), ("exchange", "linking"), ("exchange", "exchange"), ("exchange", "after_exchange"),
    ("exchange", "cleanup"), ("fallback", "linking"), ("fallback", "between_renames"), ("fallback", "cleanup"),
])
def test_a_kill_at_any_step_leaves_the_old_set_or_the_new_one_whole(tmp_path, mode, step):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(out), step, mode], cwd=ROOT, timeout=60)
    assert proc.returncode == -9                            # killed where asked
    outdir.recover(out)                                     # what the next run does first
    tag = json.loads((out / "run.json").read_text())["tag"]
    assert contents(out) == (OLD if tag == "old" else NEW)   # never a mixture
    assert (out / "research.html").read_text() == "other set"
    assert tag == ("new" if step in ("after_exchange", "cleanup") else "old")
    # The next run works and leaves the set whole (hidden leftovers of the killed run are a day's garbage).
    with outdir.output_set(out, "run.json", {"tag": "again"}) as stage:
        (stage / "a.csv").write_text("again")
    assert contents(out) == {"a.csv": "again"} and (out / "research.html").read_text() == "other set"
