"""The web chat: a unit's personal link opens a chat page that answers the survey through the same engine."""
