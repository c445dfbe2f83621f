"""The embedded synthetic A-share market generator (docs/synthetic.md)."""
