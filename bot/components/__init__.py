"""Code that runs inside Rasa's process (Python 3.10): the NLU component, and jsonschema with a schema cache.

Rasa imports this package to load the model, so ``validate_once.install()`` runs before the first turn.
"""

from bot.components.validate_once import install

install()
