"""Plumbing shared by every layer: typed config, user errors, logging, progress."""
