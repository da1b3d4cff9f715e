def format_cents(cents: int) -> str:
    """1234 -> '12.34': amounts are integer cents everywhere, formatted only for people."""
    return f"{cents / 100:.2f}"
