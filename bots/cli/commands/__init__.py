"""One module per command (or family of commands); bots/cli/__init__.py imports only the one invoked."""
