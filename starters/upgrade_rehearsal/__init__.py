"""`python -m starters.upgrade_rehearsal [--keep] [--hold]`: a deployment of a new build over
orders in flight, rehearsed end to end on a dev server of its own.

1. The workers of v1 (this checkout) start, and become the deployment's current version.
2. Orders are placed in every style, and left waiting: for a person's approval, for the carrier.
3. The workers of v2 start beside them: this checkout with `next_build.patch` applied, a real
   change to workflow code (the dispatch notice carries a tracking link) and to an event's
   payload (`ShipmentDispatched` gains an optional `tracking_url`). v1 stays current, and the
   orders placed now go to v1 still, though v2's workers poll the same task queues.
4. v2 is made current with the Temporal CLI, as an operator would; new orders are placed, and
   wait as the first ones did.
5. Every order is approved or delivered, and ends. The orders placed before the upgrade must have
   run, every workflow of theirs (children and participants started after the upgrade too), on
   v1 with v1's behaviour; the new ones on v2 with v2's.
6. v1 drains (no workflow is pinned to it any more) and its workers stop; the audit of the
   stores must be clean.

It prints which order ran on which build and exits 0, or 1 on any surprise: an order on the
wrong build or with the other build's behaviour, an order that failed or stalled, a version that
does not drain, an audit finding. `--keep` keeps its directory (stores, each process's log);
`--hold` keeps the server, with its Web UI, and v2's workers up afterwards until Ctrl-C.
"""
