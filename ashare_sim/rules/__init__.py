"""The dated A-share rules table and its lookups."""
from ashare_sim.rules.table import Lot, RulesTable, TransferFee

__all__ = ["Lot", "RulesTable", "TransferFee"]
