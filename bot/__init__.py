"""Lotse's dialogue: the Rasa project (config, domain, data) and the custom actions and NLG it calls."""
