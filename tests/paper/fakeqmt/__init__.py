"""A stand-in for xtquant with the vendor API's surface (module, class, method, callback and field names, the
constants' values), backed by a scripted exchange whose state is a JSON file in the client folder, so a
process killed mid-send and started again sees the orders it sent. Used as `paper.qmt.api:
tests.paper.fakeqmt` (see tests/paper/test_live.py)."""
