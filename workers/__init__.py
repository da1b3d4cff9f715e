"""Worker processes: one per service, or several services in one process."""
