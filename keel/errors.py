"""The error the CLI reports in one line, in a module of its own.

Commands that never start a run (keel land, say) raise it too; with the class
in keel.runs they imported Dagster to raise or catch it.
"""


class KeelError(RuntimeError):
    """A failure the CLI reports in one line with what to do next."""
