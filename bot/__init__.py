"""Lotse's dialogue: the Rasa project (config, domain, data) and the custom actions and NLG it calls.

This file imports nothing: Rasa's own environment (Python 3.10) loads ``bot.components`` from this package.
The modules other packages use are listed in ``__all__``; the rest are the action server's own.
"""

__all__ = [
    "context",  # the per-turn Context
    "language",  # every locale decision
    "messages",  # the contracts between the processes: TurnMetadata, BotMessage
    "replies",  # compose(result, context) -> messages, for the dialogue and the knowledge-only path
    "runtime",  # settings base, logging and services of both server processes
    "texts",  # every sentence a person reads
]
