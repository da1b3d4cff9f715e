"""Plumbing shared by workers, starters and tests: finding the Temporal binaries, connecting a
client, the workflow sandbox, the data directory."""
