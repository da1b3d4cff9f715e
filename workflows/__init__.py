"""Temporal workflows: the orchestrated style (`orchestrated/`), and the helpers every style
shares (service calls, saga, order tracking)."""
