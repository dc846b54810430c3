"""One module per ``dm-explore`` subcommand: ``NAME``, ``HELP``, ``add_arguments``, ``run``."""
