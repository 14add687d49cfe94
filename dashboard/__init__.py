"""The dashboard: FastAPI REST API and WebSocket push, authentication and role scoping,
the station console, the family page and the admin pages (static, no build step)."""
