"""The execution models: small registered classes, each one rule or price model of the A-share market.

Every model carries its name (the config value or key that selects it), a one-line description, the
reason code it refuses with and its typed parameters (`Params`, a config section of its own keys). The
execution core builds them from the broker config (`build_models`); the config schema is assembled from
their parameters; the execution-assumptions block is their `describe()` lines. None of them imports
Backtrader: the backtest's broker and the paper account run the same objects.
"""
