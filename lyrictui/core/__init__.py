"""Domain code shared by the app and the CLI. Imports neither textual nor rich."""
