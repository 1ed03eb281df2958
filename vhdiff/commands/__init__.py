"""vhdiff.commands."""
