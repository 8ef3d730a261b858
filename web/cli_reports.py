"""Click commands: cli_reports."""
COMMANDS: list = []
