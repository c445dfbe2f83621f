"""Research pipeline: universe, factors, RankIC composite, monthly targets.

Pure numpy / pandas, point in time. Entry point: `signals.pipeline.build_targets`.
"""
