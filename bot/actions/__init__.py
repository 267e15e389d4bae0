"""Custom actions, one class each; registered with the Rasa SDK executor by bot/server.py. They are thin: the
context comes from bot/context.py, the replies from bot/replies.py and bot/texts.py."""

__all__: list[str] = []  # found by the executor (register_package), never imported by other packages
