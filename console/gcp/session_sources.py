"""The Google Cloud sources a ``[gcp]`` workspace gets: Monitoring, Logging and Cloud Run state.

``build_gcp_sources`` resolves credentials once, up front, so a console without credentials says
so before any window opens (``CredentialsError`` with the fix); endpoints that are plaintext
loopback (test fakes, local proxies) need none and are never sent a token. The clients are built
lazily on the sources' worker threads: importing and connecting never happens on the GUI thread.
The three sources share a ``ResourceStateCache`` so Monitoring can compute the connector's
saturation against its configured maximum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.gcp.clients import (
    VpcAccessRest,
    build_logging_client,
    build_metric_client,
    build_run_clients,
    parse_endpoint,
)
from console.gcp.credentials import resolve_credentials
from console.gcp.logging_source import LoggingSource
from console.gcp.monitoring_source import MonitoringSource
from console.gcp.run_state_source import RunStateSource
from console.resource_state import ResourceStateCache
from console.sources import Source
from console.workspace import GcpSettings, Workspace

if TYPE_CHECKING:
    import google.auth.credentials


def needs_credentials(settings: GcpSettings) -> bool:
    """True unless every endpoint is plaintext on loopback (then no token is ever sent)."""
    endpoints = (
        settings.monitoring_endpoint,
        settings.logging_endpoint,
        settings.run_endpoint,
        settings.vpcaccess_endpoint,
    )
    return not all(parse_endpoint(e).plaintext for e in endpoints)


def build_gcp_sources(workspace: Workspace) -> list[Source]:
    """Monitoring, Logging and Cloud Run state sources for ``workspace`` (which has ``[gcp]``).

    Raises ``CredentialsError`` (saying how to fix it) when credentials are needed and missing.
    """
    settings = workspace.gcp
    assert settings is not None, "build_gcp_sources needs a workspace with [gcp]"
    credentials: google.auth.credentials.Credentials | None = None
    if needs_credentials(settings):
        credentials = resolve_credentials(settings.credentials).credentials
    cache = ResourceStateCache()
    # Cloud Run state first: polled synchronously (``status``), it fills the cache before
    # Monitoring needs the connector's maximum for saturation.
    return [
        RunStateSource(
            workspace,
            settings,
            lambda: build_run_clients(settings.run_endpoint, credentials),
            lambda: VpcAccessRest(settings.vpcaccess_endpoint, credentials),
            cache,
        ),
        MonitoringSource(
            workspace,
            settings,
            lambda: build_metric_client(settings.monitoring_endpoint, credentials),
            cache,
        ),
        LoggingSource(
            workspace,
            settings,
            lambda: build_logging_client(settings.logging_endpoint, credentials),
        ),
    ]
