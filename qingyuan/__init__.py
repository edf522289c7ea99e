"""Qingyuan (青缘): verified youth matchmaking and services platform."""

__version__ = "0.1.0"
