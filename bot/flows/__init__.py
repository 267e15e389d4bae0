"""Pure logic of the guided checks (no Rasa, no I/O): understanding the answers and deciding the outcome."""
