"""Output sets: refused before work when they cannot be written, staged, moved in whole, never mixed."""
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


def test_an_existing_directory_is_staged_beside_it_and_switched_whole(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_set(out, {"a.csv": "old"})
    (out / "notes.txt").write_text("mine")                  # the user's own file in the folder stays
    seen = []
    real = outdir.tempfile.mkdtemp
    monkeypatch.setattr(outdir.tempfile, "mkdtemp", lambda **kw: seen.append(kw["dir"]) or real(**kw))
    write_set(out, {"a.csv": "new"})
    assert seen == [tmp_path]                               # beside `out`: the same file system as its parent
    assert (out / "a.csv").read_text() == "new" and (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]       # nothing left beside it


def test_without_an_atomic_exchange_the_old_directory_is_renamed_aside_then_removed(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_set(out, {"a.csv": "old", "b.csv": "old"})
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    write_set(out, {"a.csv": "new"})
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "run.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_mount_point_is_staged_inside_it_and_filled_file_by_file(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_set(out, {"a.csv": "old", "b.csv": "old"})
    monkeypatch.setattr(outdir.os.path, "ismount", lambda p: str(p) == str(out))
    seen = []
    real = outdir.tempfile.mkdtemp
    monkeypatch.setattr(outdir.tempfile, "mkdtemp", lambda **kw: seen.append(kw["dir"]) or real(**kw))
    write_set(out, {"a.csv": "new", "sub/c.csv": "c"})
    assert seen == [out]                                    # a mount point cannot be swapped: files move in
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "run.json", "sub"]


@pytest.mark.parametrize("entry", ["../victim.txt", "VICTIM_ABS", "sub/../../victim.txt", "..", "."])
def test_a_tampered_manifest_never_reaches_outside_its_folder(tmp_path, monkeypatch, entry):
    out = tmp_path / "work" / "out"
    write_set(out, {"a.csv": "old"})
    victim = tmp_path / "work" / "victim.txt"
    victim.write_text("precious")
    record = json.loads((out / "run.json").read_text())
    record["files"].append(str(victim) if entry == "VICTIM_ABS" else entry)
    (out / "run.json").write_text(json.dumps(record))
    for exchange in (True, False):                          # the atomic switch and its fallback
        monkeypatch.setattr(outdir, "_exchange", outdir._exchange if exchange else (lambda a, b: False))
        write_set(out, {"a.csv": "new"})
        assert victim.read_text() == "precious"
    monkeypatch.setattr(outdir.os.path, "ismount", lambda p: str(p) == str(out))    # the file-by-file mode
    record = json.loads((out / "run.json").read_text())
    record["files"].append(str(victim) if entry == "VICTIM_ABS" else entry)
    (out / "run.json").write_text(json.dumps(record))
    write_set(out, {"a.csv": "newer"})
    assert victim.read_text() == "precious" and (out / "a.csv").read_text() == "newer"


def test_a_new_set_is_readable_like_any_folder_the_user_makes(tmp_path):
    old = os.umask(0o022)
    try:
        write_set(tmp_path / "out", {"a.csv": "1"})
        assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
        write_set(tmp_path / "out", {"a.csv": "2"})
        assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    finally:
        os.umask(old)


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
