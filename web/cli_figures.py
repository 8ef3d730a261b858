"""Click commands: cli_figures."""
COMMANDS: list = []
