"""Lotse's knowledge engine: curated, sourced entries -> validated -> embedded -> searched.

It knows nothing about HTTP, Rasa or messengers; the API and the bot's actions call into it.
"""
