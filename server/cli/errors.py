"""The CLI's one error type, apart from the commands that raise it."""


class CliError(Exception):
    """A problem the user can fix: printed as one line."""
