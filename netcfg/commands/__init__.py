"""Subcommands of the ``netcfg`` command line, one module each."""
