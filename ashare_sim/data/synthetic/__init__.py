"""The embedded synthetic A-share market generator (see README: The embedded synthetic market)."""
