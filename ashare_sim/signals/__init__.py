"""Research pipeline: universe, factors, RankIC composite, monthly targets.

Pure numpy / pandas, point in time. Entry point: `factors.pipeline.build_targets`.
"""
