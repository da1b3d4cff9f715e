"""The choreographed style's events: the envelope every event travels in, the payloads, and the
one contract that says who publishes each event and who reacts to it."""
