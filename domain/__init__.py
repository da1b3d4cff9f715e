"""The business vocabulary shared by every style: orders, outcomes, services and their messages.

Nothing here talks to Temporal or to a store, so workflows, activities, starters and tests can all
import it (the workflow sandbox passes it through unchanged).
"""
