"""Shipped zoo entries (package data of netcfg, imported as ``netcfg._zoo``)."""
