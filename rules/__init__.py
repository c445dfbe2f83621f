"""The dated A-share rules table and its lookups."""
from rules.table import Lot, RulesTable, TransferFee

__all__ = ["Lot", "RulesTable", "TransferFee"]
