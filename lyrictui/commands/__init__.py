"""CLI subcommands, one module per area; each exposes COMMANDS for lyrictui.cli."""
