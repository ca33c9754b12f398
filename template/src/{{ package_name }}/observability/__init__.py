"""Logs now; metrics, traces and the event-loop monitor join here as they are enabled."""
