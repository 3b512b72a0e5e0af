"""Command-line entry points: one thin module per job, each with get_parser() and main()."""
