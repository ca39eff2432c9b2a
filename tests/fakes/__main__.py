"""``python -m tests.fakes [--port 8081] [--rate-limit]``: run the fake Telegram Bot API server."""

from tests.fakes.telegram import main

if __name__ == "__main__":
    main()
