"""The self-contained HTML report (`report.html`): charts, tables and the page."""
from ashare_sim.report.html import write_report

__all__ = ["write_report"]
