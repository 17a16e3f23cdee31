"""The analytics service: stores the stream job's window results and serves the analytics API."""
