"""The Google Cloud executor: guarded actions carried out through the real APIs.

* **Cloud Run** (Admin API v2, gRPC, ``ServicesClient``): ``get_service`` + ``list_revisions`` for
  the state (the service's ``etag``, ``scaling``, ``traffic``, revisions' Ready condition);
  ``update_service`` with the ``Service`` exactly as it was read (same ``etag``) but for the
  changed part (``scaling`` or ``traffic``), and an ``update_mask`` naming that part. Sending the
  whole read service keeps the request safe on an API version that predates ``update_mask``
  (older v2 releases replaced the whole service): every other field is sent back unchanged, so
  no template change and no new revision. ``validate_only=True`` is the server-side dry run. A
  stale etag comes back ``ABORTED`` (or ``FAILED_PRECONDITION``) and becomes ``ConflictError``.
  The long-running operation is polled with ``get_operation``.
* **Serverless VPC Access** (REST through google-auth's ``AuthorizedSession``, since the Python
  client has no update method): ``GET`` the connector, ``PATCH ...?updateMask=minInstances,...``
  with only the changed fields, then ``GET`` the operation until done. The connector has no etag:
  ``start`` re-reads it and compares a fingerprint of its fields just before the ``PATCH``.

What it reads is the one model of resource state (``console.resource_state``), built by the same
functions as the Cloud Run state source's (``console.gcp.run_state_source``), except that every
revision is kept.

Every call has an explicit timeout and bounded retries (``console.gcp.clients``). The clients are
built on first use, i.e. on the worker thread of the first action (like the sources', never on
the GUI thread); credentials are resolved once by ``build_google_executor`` with the same rules as
the sources (``console.gcp.credentials``). API errors become ``ExecutorError`` with Google's
status name, so a permission problem reads as one.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.actions.commands import Command, RouteTraffic, ScaleConnector, ScaleService
from console.actions.executor import (
    NO_CONNECTOR_DRY_RUN,
    ConflictError,
    DryRunResult,
    ExecutorError,
    OperationStatus,
)
from console.actions.plan import planned_settings
from console.actions.target import Target
from console.gcp.clients import (
    RPC_TIMEOUT_S,
    VpcAccessRest,
    VpcAccessRestError,
    build_run_clients,
    unary_retry,
)
from console.gcp.run_state_source import connector_state, service_state
from console.resource_state import (
    LATEST,
    CloudRunServiceState,
    ConnectorState,
    ResourceState,
    describe_resource,
)

if TYPE_CHECKING:
    from google.cloud.run_v2 import RevisionsClient, ServicesClient

    from console.workspace import Workspace

RunClientsFactory = Callable[[], "tuple[ServicesClient, RevisionsClient]"]
VpcAccessFactory = Callable[[], VpcAccessRest]

#: How long an update may take before the pipeline reports it as not finished, and how often
#: its operation is polled.
CONNECTOR_OPERATION_TIMEOUT_S = 15 * 60.0
CONNECTOR_POLL_INTERVAL_S = 5.0
RUN_OPERATION_TIMEOUT_S = 10 * 60.0
RUN_POLL_INTERVAL_S = 2.0
#: The connector fields a PATCH may change, by command argument, as the REST API names them.
CONNECTOR_FIELDS = {
    "min_instances": "minInstances",
    "max_instances": "maxInstances",
    "machine_type": "machineType",
}


def _api_error(exc: Exception) -> ExecutorError:
    """An ``ExecutorError`` for a google-api-core or VPC Access REST error."""
    if isinstance(exc, VpcAccessRestError):
        return ExecutorError(exc.code, str(exc))
    status = getattr(exc, "grpc_status_code", None)
    code = status.name if status is not None else type(exc).__name__.upper()
    return ExecutorError(code, str(getattr(exc, "message", exc)) or str(exc))


def _is_etag_conflict(error: ExecutorError) -> bool:
    return error.code == "ABORTED" or (
        error.code == "FAILED_PRECONDITION" and "etag" in error.message.lower()
    )


@dataclass
class GoogleOperation:
    """A long-running operation of either API, polled by its name."""

    name: str
    poll_interval_s: float
    timeout_s: float
    executor: GoogleExecutor
    kind: str  # "run" or "connector"
    resource: str

    def poll(self) -> OperationStatus:
        operation = self.executor.get_operation(self.kind, self.name)
        done = bool(operation.get("done"))
        error = operation.get("error") or None
        if done and error:
            return OperationStatus(
                True,
                "failed",
                ExecutorError(_code_name(error.get("code")), str(error.get("message", ""))),
            )
        short = self.name.rsplit("/", 1)[-1]
        return OperationStatus(done, f"Updating {self.resource} (operation {short})")


def _code_name(code: Any) -> str:
    if isinstance(code, str):
        return code
    from google.rpc import code_pb2

    try:
        return code_pb2.Code.Name(int(code or 2))
    except ValueError:
        return "UNKNOWN"


class GoogleExecutor:
    """Carries out actions on Google Cloud (or on the fake servers in tests)."""

    scope = "gcp"

    def __init__(
        self,
        run_clients: RunClientsFactory,
        vpcaccess: VpcAccessFactory,
        *,
        project: str,
        region: str,
        identity: str,
        rpc_timeout_s: float = RPC_TIMEOUT_S,
    ) -> None:
        self._run_factory = run_clients
        self._rest_factory = vpcaccess
        self._run: tuple[ServicesClient, RevisionsClient] | None = None
        self._rest: VpcAccessRest | None = None
        self._build_lock = threading.Lock()
        self.project = project
        self.region = region
        self._identity = identity
        self.rpc_timeout_s = rpc_timeout_s
        self._rest_lock = threading.Lock()  # one requests.Session: one call at a time
        #: The last ``Service`` read per full name (a protobuf message): updates start from it.
        self._services_read: dict[str, Any] = {}
        self._services_lock = threading.Lock()

    def identity(self) -> str:
        return self._identity

    # ---- clients, built on first use ---------------------------------------------------------

    @property
    def services(self) -> ServicesClient:
        """The Cloud Run ``ServicesClient``."""
        return self._run_clients()[0]

    @property
    def revisions(self) -> RevisionsClient:
        """The Cloud Run ``RevisionsClient``."""
        return self._run_clients()[1]

    @property
    def vpcaccess(self) -> VpcAccessRest:
        """The VPC Access REST session."""
        with self._build_lock:
            if self._rest is None:
                self._rest = self._rest_factory()
            return self._rest

    def _run_clients(self) -> tuple[ServicesClient, RevisionsClient]:
        with self._build_lock:
            if self._run is None:
                self._run = self._run_factory()
            return self._run

    # ---- names ------------------------------------------------------------------------------

    def service_name(self, resource: str) -> str:
        """``projects/P/locations/R/services/S``."""
        return f"projects/{self.project}/locations/{self.region}/services/{resource}"

    def connector_name(self, resource: str) -> str:
        """``projects/P/locations/R/connectors/C``."""
        return f"projects/{self.project}/locations/{self.region}/connectors/{resource}"

    def _rpc(self) -> dict[str, Any]:
        return {"timeout": self.rpc_timeout_s, "retry": unary_retry()}

    # ---- reading ----------------------------------------------------------------------------

    def read(self, target: Target) -> ResourceState:
        if target.kind == "vpc_connector":
            return self._read_connector(target)
        return self._read_service(target)

    def _connector_json(self, target: Target) -> dict[str, Any]:
        try:
            with self._rest_lock:
                return self.vpcaccess.get_connector(self.connector_name(target.resource))
        except VpcAccessRestError as exc:
            raise _api_error(exc) from None

    def _read_connector(self, target: Target) -> ConnectorState:
        state = connector_state(target.service_id, self._connector_json(target), time.time())
        if state.min_instances is None or state.max_instances is None:
            raise ExecutorError(
                "FAILED_PRECONDITION",
                f"{target.resource} reports no minInstances/maxInstances (a throughput-sized "
                "connector?): scale it with gcloud",
            )
        return state

    def _read_service(self, target: Target) -> CloudRunServiceState:
        """The service and ALL its revisions (a rollback may name an old one)."""
        from google.api_core import exceptions
        from google.cloud import run_v2

        name = self.service_name(target.resource)
        try:
            service = self.services.get_service(name=name, **self._rpc())
            revisions = list(self.revisions.list_revisions(parent=name, **self._rpc()))
        except exceptions.GoogleAPICallError as exc:
            raise _api_error(exc) from None
        with self._services_lock:
            self._services_read[name] = run_v2.Service.pb(service)
        return service_state(
            target.service_id,
            run_v2.Service.pb(service),
            [run_v2.Revision.pb(r) for r in revisions],
            time.time(),
            idle_revisions_shown=None,
        )

    # ---- Cloud Run updates ------------------------------------------------------------------

    def service_update_request(
        self, command: Command, target: Target, state: ResourceState, *, validate_only: bool
    ) -> Any:
        """The ``UpdateServiceRequest`` for a Cloud Run command: the service as read with
        ``state`` (its etag) with the changed part replaced, and an update mask naming it."""
        from google.cloud import run_v2
        from google.protobuf import field_mask_pb2

        assert isinstance(state, CloudRunServiceState)
        name = self.service_name(target.resource)
        with self._services_lock:
            read = self._services_read.get(name)
        if read is not None and read.etag == state.etag:
            service = run_v2.Service.wrap(copy.deepcopy(read))  # the cached read stays as read
        else:  # not read by this executor: the etag alone makes the server refuse a stale one
            service = run_v2.Service(name=name, etag=state.etag)
        after = planned_settings(command, state)
        if isinstance(command, ScaleService):
            service.scaling = run_v2.ServiceScaling(
                min_instance_count=after["min_instances"],
                max_instance_count=after["max_instances"] or 0,
            )
            mask = ["scaling"]
        elif isinstance(command, RouteTraffic):
            kinds = run_v2.TrafficTargetAllocationType
            targets = []
            for revision, percent in after["traffic"].items():
                if percent <= 0:
                    continue
                if revision == LATEST:
                    targets.append(
                        run_v2.TrafficTarget(
                            type_=kinds.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST, percent=percent
                        )
                    )
                else:
                    targets.append(
                        run_v2.TrafficTarget(
                            type_=kinds.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION,
                            revision=revision,
                            percent=percent,
                        )
                    )
            service.traffic = targets
            mask = ["traffic"]
        else:
            raise TypeError(f"{command.name} is not a Cloud Run update")
        return run_v2.UpdateServiceRequest(
            service=service,
            update_mask=field_mask_pb2.FieldMask(paths=mask),
            validate_only=validate_only,
        )

    def _update_service(self, request: Any) -> Any:
        from google.api_core import exceptions

        try:
            return self.services.update_service(request=request, **self._rpc())
        except exceptions.GoogleAPICallError as exc:
            error = _api_error(exc)
            if _is_etag_conflict(error):
                raise ConflictError(error.message) from None
            raise error from None

    # ---- connector updates ------------------------------------------------------------------

    @staticmethod
    def connector_patch(command: ScaleConnector) -> tuple[dict[str, Any], str]:
        """The PATCH body (only the changed fields) and its ``updateMask``."""
        body = {CONNECTOR_FIELDS[k]: v for k, v in command.arguments().items()}
        return body, ",".join(body)

    # ---- the Executor protocol --------------------------------------------------------------

    def dry_run(self, command: Command, target: Target, state: ResourceState) -> DryRunResult:
        if isinstance(command, ScaleConnector):
            return NO_CONNECTOR_DRY_RUN
        request = self.service_update_request(command, target, state, validate_only=True)
        try:
            self._update_service(request)
        except ConflictError as exc:
            return DryRunResult(True, False, f"the service changed since it was read: {exc}")
        except ExecutorError as exc:
            return DryRunResult(True, False, f"the server refused the dry run: {exc}")
        return DryRunResult(True, True, "Cloud Run validated the request (validate_only)")

    def start(self, command: Command, target: Target, state: ResourceState) -> GoogleOperation:
        if isinstance(command, ScaleConnector):
            current = self._read_connector(target)
            if current.etag != state.etag:
                raise ConflictError(
                    f"{target.resource} changed since it was read: it is now "
                    f"{describe_resource(current)}"
                )
            body, mask = self.connector_patch(command)
            try:
                with self._rest_lock:
                    operation = self.vpcaccess.patch_connector(
                        self.connector_name(target.resource), body, mask
                    )
            except VpcAccessRestError as exc:
                raise _api_error(exc) from None
            return GoogleOperation(
                str(operation.get("name", "")),
                CONNECTOR_POLL_INTERVAL_S,
                CONNECTOR_OPERATION_TIMEOUT_S,
                self,
                "connector",
                target.resource,
            )
        request = self.service_update_request(command, target, state, validate_only=False)
        future = self._update_service(request)
        name = future.operation.name
        return GoogleOperation(
            name, RUN_POLL_INTERVAL_S, RUN_OPERATION_TIMEOUT_S, self, "run", target.resource
        )

    def get_operation(self, kind: str, name: str) -> dict[str, Any]:
        """One poll of an operation, as ``{"done": bool, "error": {"code", "message"}?}``."""
        if kind == "connector":
            try:
                with self._rest_lock:
                    return self.vpcaccess.get_operation(name)
            except VpcAccessRestError as exc:
                raise _api_error(exc) from None
        from google.api_core import exceptions

        try:
            operation = self.services.get_operation(request={"name": name}, **self._rpc())
        except exceptions.GoogleAPICallError as exc:
            raise _api_error(exc) from None
        result: dict[str, Any] = {"done": operation.done}
        if operation.HasField("error"):
            result["error"] = {"code": operation.error.code, "message": operation.error.message}
        return result

    def close(self) -> None:
        with self._build_lock:
            rest, self._rest = self._rest, None
            run, self._run = self._run, None
        if rest is not None:
            rest.close()
        for client in run or ():
            client.transport.close()


#: Who acts when every endpoint is a plaintext loopback one (test fakes): no token is sent.
ANONYMOUS_IDENTITY = "anonymous (plaintext test endpoint)"


def build_google_executor(workspace: Workspace) -> GoogleExecutor:
    """The executor for a workspace with a ``[gcp]`` table: its endpoints, project and region,
    and the credentials the sources use (resolved here; ``CredentialsError`` when missing)."""
    from console.gcp.credentials import resolve_credentials
    from console.gcp.session_sources import needs_credentials

    settings = workspace.gcp
    if settings is None:
        raise ValueError("the workspace has no [gcp] table")
    credentials = None
    identity = ANONYMOUS_IDENTITY
    if needs_credentials(settings):
        resolved = resolve_credentials(settings.credentials)
        credentials, identity = resolved.credentials, resolved.identity
    return GoogleExecutor(
        lambda: build_run_clients(settings.run_endpoint, credentials),
        lambda: VpcAccessRest(settings.vpcaccess_endpoint, credentials),
        project=settings.project or workspace.incident.project,
        region=settings.region or workspace.incident.region,
        identity=identity,
    )
