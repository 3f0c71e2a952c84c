"""Networks: the root spec, the pure compile step, the graph module and the losses."""
