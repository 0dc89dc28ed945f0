"""Whether the UI can have the address it is asked to serve on, before anything is started."""

from __future__ import annotations

import errno
import socket


class PortInUse(ValueError):
    """Another process (often an earlier `keel serve` or `dagster dev`) already listens on the address."""


def ensure_port_free(
    host: str,
    port: int,
    served_by: str = "keel serve",
    port_option: str = "--port",
    make_variable: str | None = "PORT",
    earlier: str = "`keel serve`, `make run` or `dagster dev`",
) -> None:
    """Raise PortInUse, saying what to do, when `host:port` cannot be bound; return when it can.

    Bound as the web server binds (SO_REUSEADDR), so a port an earlier server
    just closed (TIME_WAIT) counts as free, as it is to that server. Without
    this check `dagster dev` starts its daemon, the web server fails to bind,
    and the daemon keeps running with no UI while whatever holds the port
    answers at the address printed. The message names what may hold the port
    (`earlier`) and the option (and `make run` variable) that choose another.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                elsewhere = f"`{served_by} {port_option} {port + 1}`" + (f", `make run {make_variable}={port + 1}`" if make_variable else "")
                raise PortInUse(
                    f"{host}:{port} is already in use (an earlier {earlier}?): stop it, or serve on another port ({elsewhere})"
                ) from None
            if error.errno == errno.EADDRNOTAVAIL:
                raise PortInUse(f"cannot serve on {host}:{port}: {host} is not an address of this machine") from None
            raise
