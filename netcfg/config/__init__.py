"""Config loading: read JSON/YAML with line numbers, canonical keys, Extends, --set."""

from netcfg.config.load import load_config, load_tree, validate_config, validate_tree

__all__ = ["load_config", "load_tree", "validate_config", "validate_tree"]
