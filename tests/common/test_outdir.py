"""Output sets: refused before work when they cannot be written, staged, moved in whole, never mixed."""
import errno
import json
import os

import pytest

from ashare_sim.common import outdir
from ashare_sim.common.errors import UserError
from ashare_sim.common.outdir import check_output_dir, output_set


def write_set(out, files, manifest="run.json"):
    with output_set(out, manifest, {"kind": "test"}) as stage:
        for name, text in files.items():
            path = stage / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


def test_a_new_directory_appears_whole_with_its_manifest(tmp_path):
    out = tmp_path / "deep" / "out"
    write_set(out, {"a.csv": "1", "sub/b.csv": "2"})
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "run.json", "sub"]
    record = json.loads((out / "run.json").read_text())
    assert record["files"] == ["a.csv", "sub"] and record["kind"] == "test"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".staging")]


def test_a_second_run_replaces_the_set_and_leaves_nothing_of_the_first(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"a.csv": "old", "report.html": "old", "factors/x.csv": "old"})
    write_set(out, {"a.csv": "new", "factors/y.csv": "new"})
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "factors", "run.json"]
    assert (out / "a.csv").read_text() == "new"
    assert [p.name for p in (out / "factors").iterdir()] == ["y.csv"]     # a folder is replaced, never merged


def test_other_kinds_of_set_in_the_same_directory_are_kept(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"metrics.json": "{}"})
    write_set(out, {"research.html": "r"}, manifest="research.json")
    write_set(out, {"metrics.json": "{}"})
    assert {"metrics.json", "research.html", "run.json", "research.json"} <= {p.name for p in out.iterdir()}


def test_an_error_inside_leaves_the_directory_as_it_was(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"a.csv": "old"})
    with pytest.raises(RuntimeError):
        with output_set(out, "run.json") as stage:
            (stage / "a.csv").write_text("half")
            raise RuntimeError("boom")
    assert (out / "a.csv").read_text() == "old"
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]
    with pytest.raises(KeyboardInterrupt):
        with output_set(tmp_path / "new", "run.json") as stage:
            (stage / "a.csv").write_text("half")
            raise KeyboardInterrupt
    assert not (tmp_path / "new").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".staging")]


@pytest.mark.parametrize("existing", [False, True])
def test_another_file_system_is_copied_not_renamed(tmp_path, monkeypatch, existing):
    # As if --out (or its parent) were a mount point: every rename across folders fails with EXDEV.
    out = tmp_path / "out"
    if existing:
        write_set(out, {"a.csv": "old"})
    real = os.replace

    def cross_device(src, dst):
        if os.path.dirname(os.path.abspath(src)) != os.path.dirname(os.path.abspath(dst)):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real(src, dst)

    monkeypatch.setattr(outdir.os, "replace", cross_device)
    write_set(out, {"a.csv": "new", "sub/b.csv": "b"})
    assert (out / "a.csv").read_text() == "new" and (out / "sub" / "b.csv").read_text() == "b"
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def test_existing_out_is_staged_inside_it(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_set(out, {"a.csv": "old"})
    seen = []
    real = outdir.tempfile.mkdtemp
    monkeypatch.setattr(outdir.tempfile, "mkdtemp", lambda **kw: seen.append(kw["dir"]) or real(**kw))
    write_set(out, {"a.csv": "new"})
    assert seen == [out]                       # same file system as the files it replaces


def test_bad_out_paths_are_refused_before_any_work(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(UserError, match="is a file, not a directory"):
        check_output_dir(f)
    with pytest.raises(UserError, match="is a file, so the directory cannot be made"):
        check_output_dir(f / "sub")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x")
    with pytest.raises(UserError, match=r"not empty \(thesis.tex\) and not written by this simulator"):
        check_output_dir(foreign)
    check_output_dir(tmp_path / "empty-to-be")              # fine: it will be made
    (tmp_path / "empty").mkdir()
    check_output_dir(tmp_path / "empty")


def test_unwritable_out_is_refused(tmp_path, monkeypatch):
    # Root may write anywhere, so the permission answer is the file system's, faked here.
    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(outdir.os, "access", lambda path, mode: False)
    with pytest.raises(UserError, match=r"ro/out: cannot create it \(.*ro is not writable\)"):
        check_output_dir(tmp_path / "ro" / "out")
    with pytest.raises(UserError, match="not writable; choose a directory you can write to"):
        check_output_dir(tmp_path / "ro")
