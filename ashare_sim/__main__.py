"""`python -m ashare_sim`: the command line."""
from ashare_sim.cli.main import run

run()
