"""Gantry's remote side: supervisor, trainer, environments and the JSON CLI the desktop drives."""

__version__ = "0.1.0"
PROTOCOL_VERSION = 1
