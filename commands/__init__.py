"""The `regwatch` subcommands, by job; `cli.py` parses arguments and dispatches to them."""
