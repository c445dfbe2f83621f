"""A wheel built from the checkout, installed in a fresh venv outside it, runs every command.

The fresh venv gets the wheel only; its dependencies come from this test environment's site-packages
through a .pth line (no network, and the checkout's own modules are not on the path)."""
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_a_wheel_installed_in_a_fresh_venv_runs_every_command(tmp_path):
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        tmp_path, dict(os.environ))
    wheel = next(dist.glob("ashare_sim-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")     # dependencies, not our modules
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
    run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        tmp_path, env)
    work = tmp_path / "work"
    work.mkdir()
    where = run([str(py), "-c", "import ashare_sim; print(ashare_sim.__file__)"], work, env).stdout
    assert str(ROOT) not in where and str(env_dir) in where                        # the installed copy

    cli = [str(env_dir / "bin" / "ashare-sim")]
    run(cli + ["data", "generate", "--out", "m", "--stocks", "40", "--start", "2019-01-01", "--end", "2020-12-31",
               "--seed", "5"], work, env)
    sets = ["--set", "data.path=m", "--set", "backtest.start=2020-01-01"]
    out = run(cli + ["-q", "backtest", "--out", "bt", *sets], work, env).stdout
    assert "final value" in out and (work / "bt" / "report.html").exists()
    run(cli + ["-q", "backtest", "-c", "study", "--out", "study", *sets], work, env)
    run(cli + ["-q", "research", "--out", "bt", *sets, "--set", "research.compare_neutral=none"], work, env)
    assert (work / "bt" / "research.html").exists()
    stress = run(cli + ["-q", "stress", "--grid", "execution", "--workers", "1", "--out", "st", *sets,
                        "--episodes", "none"], work, env).stdout
    assert "scenarios" in stress and (work / "st" / "stress.html").exists()
    run(cli + ["-q", "paper", "plan", "--account", "a.db", "--date", "2020-12-01", *sets], work, env)
    run(cli + ["-q", "paper", "execute", "--account", "a.db", "--date", "2020-12-01", *sets], work, env)
    status = run([str(py), "-m", "ashare_sim", "paper", "status", "--account", "a.db", "--json"], work, env).stdout
    assert '"last_date": "2020-12-01"' in status
    run(cli + ["config", "init", "mine.yaml"], work, env)
    assert "broker:" in (work / "mine.yaml").read_text()
