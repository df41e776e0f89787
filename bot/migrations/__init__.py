"""Alembic migrations: how a database reaches the shape of ``bot.adapters.sql_schema``.

Applied by ``tweetchat db upgrade`` and at every start (``bot.adapters.migrate``).
"""
