"""The HTTP gateway: the integration operations as JSON over HTTP, for systems outside Python (docs/integration.md)."""
