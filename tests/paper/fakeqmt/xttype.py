"""StockAccount and the data objects, with the vendor's field names."""
from dataclasses import dataclass

from tests.paper.fakeqmt import xtconstant as c


class StockAccount:
    def __new__(cls, account_id, account_type="STOCK"):
        if not isinstance(account_id, str):
            return "资金账号必须为字符串类型"         # the vendor returns its complaint instead of raising
        return super().__new__(cls)

    def __init__(self, account_id, account_type="STOCK"):
        if str(account_type).upper() not in ("STOCK", "CREDIT"):
            raise Exception(f"不支持的账号类型：{account_type}！")
        self.account_type = c.SECURITY_ACCOUNT if str(account_type).upper() == "STOCK" else 3
        self.account_id = account_id


@dataclass
class XtAsset:
    account_type: int
    account_id: str
    cash: float
    frozen_cash: float
    market_value: float
    total_asset: float
    fetch_balance: float = 0.0


@dataclass
class XtOrder:
    account_type: int
    account_id: str
    stock_code: str
    order_id: int
    order_sysid: str
    order_time: int
    order_type: int
    order_volume: int
    price_type: int
    price: float
    traded_volume: int
    traded_price: float
    order_status: int
    status_msg: str
    strategy_name: str
    order_remark: str
    direction: int = 48
    offset_flag: int = 48
    secu_account: str = ""
    instrument_name: str = ""


@dataclass
class XtTrade:
    account_type: int
    account_id: str
    order_type: int
    stock_code: str
    traded_id: str
    traded_time: int
    traded_price: float
    traded_volume: int
    traded_amount: float
    order_id: int
    order_sysid: str
    strategy_name: str
    order_remark: str
    direction: int = 48
    offset_flag: int = 48
    commission: float = 0.0
    secu_account: str = ""
    instrument_name: str = ""


@dataclass
class XtPosition:
    account_type: int
    account_id: str
    stock_code: str
    volume: int
    can_use_volume: int
    open_price: float
    market_value: float
    frozen_volume: int = 0
    on_road_volume: int = 0
    yesterday_volume: int = 0
    avg_price: float = 0.0


@dataclass
class XtOrderError:
    account_type: int
    account_id: str
    order_id: int
    error_id: int
    error_msg: str
    strategy_name: str = ""
    order_remark: str = ""
    seq: int = 0


@dataclass
class XtCancelError:
    account_type: int
    account_id: str
    order_id: int
    market: int
    order_sysid: str
    error_id: int
    error_msg: str
