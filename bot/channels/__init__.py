"""Channel adapters: Telegram now; WeCom and web chat later, on the same service."""

import os

# python-telegram-bot 22 warns that time periods (RetryAfter.retry_after...)
# will become timedeltas; opt in now. handlers.delivery accepts both forms.
os.environ.setdefault("PTB_TIMEDELTA", "1")
