"""The notifications service: an orders-events consumer (latency-tolerant: low CPU priority)."""
from services.kit.serve import serve

serve("services.notifications.app:create_app", background=True)
