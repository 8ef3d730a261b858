"""Click commands: cli_book."""
COMMANDS: list = []
