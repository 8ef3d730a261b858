"""The book's code lists: the one definition that the tables' check constraints
(models/) and the domain (portfolio/) both read. Standard library only, so that the
pure wings of portfolio/ can use them without loading SQLAlchemy.

Their names for people, in Chinese and English, are in portfolio/vocabulary.py.
"""
from __future__ import annotations

FUND_KINDS = ("innovation_fund", "angel_guidance", "industry_guidance", "other")
SECTORS = ("materials", "life_health", "robotics", "dual_carbon", "digital", "other")
MODES = ("sub_fund", "direct", "co_invest")
INSTRUMENTS = ("equity", "convertible", "preferred", "debt", "guarantee")
STAGES = ("seed", "startup", "growth", "mature")
FLOW_TYPES = ("contribution", "distribution")
VALUATION_METHODS = ("gp_nav", "last_round", "comparables", "dcf", "cost", "write_off", "exited")
ROLES = ("admin", "manager", "committee", "viewer", "gp")
# a sub-fund manager's quarterly package (portfolio/gp): where it stands in the review
GP_PACKAGE_STATUSES = ("draft", "submitted", "returned", "reviewed", "accepted")
