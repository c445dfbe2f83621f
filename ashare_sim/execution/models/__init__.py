"""The A-share broker: a Backtrader broker built from small, named, tested parts.

`brokers.ashare.AShareBroker` orchestrates; each rule or model is one small
class with one method, chosen by name from `config.yaml` (`broker.*`).
"""
