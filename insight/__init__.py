"""What the histories say: an order's workflows and their histories (`insight.order_histories`),
what each costs (`insight.history_stats`, `insight.billing`), the causal trace of an order across
its workflows (`insight.trace_*`, `insight.causal_trace`), the styles' comparison and the audit
against Temporal. Read-only: nothing here changes an order."""
