"""Custom actions, one class each; registered with the Rasa SDK executor by bot/server.py."""
