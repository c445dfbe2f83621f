"""CLI commands: each module turns parsed arguments into calls on the library."""
