"""Command-line entry points: `python -m starters.<command>`. Each has a `main(argv, client)` so
that a test runs the same code a person runs, with its own client."""
