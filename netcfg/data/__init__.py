"""Interaction data: sparse minibatches, data bindings of configs."""

from netcfg.data.batch import SparseBatch

__all__ = ["SparseBatch"]
