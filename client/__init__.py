"""Talking to orders from outside Temporal: placing, finding and asking them (`client.orders`),
the people's requests the commands send (`client.requests`), the request files they read
(`client.input_files`), what they print of an order (`client.output`), and the scenarios'
player (`client.scenario_player`, `client.scenario_runs`). The commands in `starters/` and the
tests call these; a storefront of your own would too."""
