"""The pure core: survey definition, loading, expressions, engine, state, events, catalogs, wording.

No I/O at call time, no channel, database or spreadsheet imports: it imports
only the standard library, pydantic, yaml and :mod:`bot.core` itself.
"""
