"""Whether a process is still running, for the tests that kill processes and look at what is left."""

from pathlib import Path


def running(pid: int) -> bool:
    """Whether `pid` is a live process: not gone, and not a zombie (its new parent, PID 1 here, may never reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
