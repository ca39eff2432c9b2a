"""The Telegram channel: application, routes, handlers, keyboards, outbox transport, webhook."""
