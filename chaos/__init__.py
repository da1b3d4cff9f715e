"""The chaos run behind `python -m starters.chaos`, one purpose each: the run's settings, the
seeded plan, the processes it runs and breaks, the calls that outlast an outage, what it does to
orders, how it knows they have settled, the invariants, and the report."""
