"""Helpers every importer shares, one job per module (one rule, one place):

    files    reading CSV (UTF-8 or GBK, a note line before the header) and Parquet; column maps;
             naming file, row and column in errors; duplicate rows
    dates    `20190301`, `2019-03-01`, `2019/03/01`, timestamps -> dates, or a clear refusal
    units    each source's units as named constants; the amount / (volume x price) sanity check
    adjust   adj_factor conventions (ours: cumulative backward, adjusted = raw x adj_factor)
    names    ST / *ST / delisting spells from stock names
    shares   share counts from caps, change points carried forward
    keys     (symbol, date) keys for exact and as-of joins over millions of rows
    industry Shenwan level-1 labels from codes

Symbol spellings are normalised by `rules.symbols` (the project's one normalisation).
"""
