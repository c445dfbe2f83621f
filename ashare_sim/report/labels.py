"""Labels for charts. The PNG charts are drawn with matplotlib's bundled fonts, which have no CJK
glyphs, so Chinese industry names (Shenwan 2021 level 1, as the importers write them) are shown by
their English names; tables in the HTML pages keep the original text (a browser has the fonts)."""
from __future__ import annotations

# Shenwan (SW2021) level-1 industries in English.
SW_LEVEL1_EN = {
    "农林牧渔": "Agriculture", "基础化工": "Basic chemicals", "钢铁": "Steel", "有色金属": "Non-ferrous metals",
    "电子": "Electronics", "汽车": "Automobiles", "家用电器": "Home appliances", "食品饮料": "Food & beverage",
    "纺织服饰": "Textiles & apparel", "轻工制造": "Light manufacturing", "医药生物": "Pharma & biotech",
    "公用事业": "Utilities", "交通运输": "Transportation", "房地产": "Real estate", "商贸零售": "Retail & trade",
    "社会服务": "Social services", "银行": "Banks", "非银金融": "Non-bank financials", "综合": "Conglomerates",
    "建筑材料": "Building materials", "建筑装饰": "Construction", "电力设备": "Power equipment",
    "机械设备": "Machinery", "国防军工": "Defence", "计算机": "Computers", "传媒": "Media",
    "通信": "Telecoms", "煤炭": "Coal", "石油石化": "Oil & petrochemicals", "环保": "Environmental",
    "美容护理": "Beauty & care",
}


def chart_label(text: object) -> str:
    """A label matplotlib can draw: known industry names in English, other non-ASCII text kept as is."""
    s = str(text)
    return SW_LEVEL1_EN.get(s, s)


def industry_name(text: object) -> str:
    """'Real estate (房地产)' for a known Shenwan name, else the text: readable without CJK fonts too."""
    s = str(text)
    return f"{SW_LEVEL1_EN[s]} ({s})" if s in SW_LEVEL1_EN else s
