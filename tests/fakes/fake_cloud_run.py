"""A fake Cloud Run Admin API v2 (Services, Revisions) with long-running Operations.

Serves ``google.cloud.run.v2.Services`` (``GetService``, ``ListServices``, ``UpdateService``),
``google.cloud.run.v2.Revisions`` (``GetRevision``, ``ListRevisions``) and
``google.longrunning.Operations`` (``GetOperation``, ``WaitOperation``) on one port, so both
generated clients and ``update_service(...).result()`` work against it.

``UpdateService`` behaves like the real API where it matters to a guarded action:

* ``validate_only`` is a server-side dry run: the request is validated and the would-be service
  returned in a finished operation; nothing changes.
* A stale ``etag`` is refused (``ABORTED`` by default, like Cloud Run; set
  ``etag_conflict_code = "FAILED_PRECONDITION"`` to test the other code some Google APIs use).
* Invalid traffic (percentages not summing to 100, an unknown revision) or scaling (min > max) is
  refused with ``INVALID_ARGUMENT``.
* A changed ``template`` creates a new revision; ``traffic`` with ``LATEST`` resolves to the
  latest ready revision in ``traffic_statuses``; ``generation`` and ``etag`` change.
* The operation's metadata and response are both a packed ``google.cloud.run.v2.Service``
  (FACTS.md: the client refuses anything else); it reports done after ``operation_polls``
  ``GetOperation`` calls. ``fail_next_operation`` makes the next one finish with an error.

Every request is recorded (``requests`` / ``requests_of``), calls are counted and faults apply
(``tests.fakes.Faults``).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import grpc
from google.cloud import run_v2
from google.longrunning import operations_pb2
from google.protobuf import any_pb2
from google.rpc import status_pb2

from tests.fakes import GrpcFakeServer, fill_page

SERVICES = "google.cloud.run.v2.Services"
REVISIONS = "google.cloud.run.v2.Revisions"
OPERATIONS = "google.longrunning.Operations"

_ServicePb = run_v2.Service.pb()
_RevisionPb = run_v2.Revision.pb()
_REVISION_TYPE = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION.value
_LATEST_TYPE = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST.value
_SUCCEEDED = run_v2.Condition.State.CONDITION_SUCCEEDED.value
#: Cloud Run's ceiling on max instances per service (a quota; 100 by default, raisable).
MAX_INSTANCES_LIMIT = 1000
#: Items per page of a list call that gives no page size.
LIST_PAGE_SIZE = 100


@dataclass(frozen=True)
class FakeRevision:
    """A revision to seed: its short id (``netra-backend-staging-00750-69k``) and scaling."""

    revision_id: str
    min_instances: int = 0
    max_instances: int = 100
    ready: bool = True


def _etag(*parts: object) -> str:
    digest = hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:16]
    return f'"{digest}"'


def _now_pb(target: object) -> None:
    target.GetCurrentTime()  # type: ignore[attr-defined]


class _RejectedError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class _PendingOperation:
    operation: operations_pb2.Operation
    polls_left: int
    service_name: str


class FakeCloudRun(GrpcFakeServer):
    """Cloud Run Services + Revisions + Operations, over stored services and revisions."""

    def __init__(self, *, project: str = "netra-staging", location: str = "us-central1") -> None:
        super().__init__()
        self.project = project
        self.location = location
        self.services: dict[str, object] = {}  # full name -> Service pb
        self.revisions: dict[str, object] = {}  # full name -> Revision pb
        self.operations: dict[str, _PendingOperation] = {}
        self.etag_conflict_code = "ABORTED"
        #: ``GetOperation`` calls before an operation reports done (0: done at once).
        self.operation_polls = 1
        self.max_instances_limit = MAX_INSTANCES_LIMIT
        self._fail_next_operation: tuple[int, str] | None = None
        self._data_lock = threading.RLock()
        self._ids = itertools.count(1)
        unary = self.add_unary
        ser = _serialize
        unary(SERVICES, "GetService", run_v2.GetServiceRequest.deserialize, ser, self._get_service)
        unary(
            SERVICES,
            "ListServices",
            run_v2.ListServicesRequest.deserialize,
            ser,
            self._list_services,
        )
        unary(
            SERVICES,
            "UpdateService",
            run_v2.UpdateServiceRequest.deserialize,
            ser,
            self._update_service,
        )
        unary(
            REVISIONS, "GetRevision", run_v2.GetRevisionRequest.deserialize, ser, self._get_revision
        )
        unary(
            REVISIONS,
            "ListRevisions",
            run_v2.ListRevisionsRequest.deserialize,
            ser,
            self._list_revisions,
        )
        unary(
            OPERATIONS,
            "GetOperation",
            operations_pb2.GetOperationRequest.FromString,
            ser,
            self._get_operation,
        )
        unary(
            OPERATIONS,
            "WaitOperation",
            operations_pb2.WaitOperationRequest.FromString,
            ser,
            self._wait_operation,
        )

    # -- seeding ---------------------------------------------------------------------------------

    def service_name(self, service_id: str) -> str:
        return f"projects/{self.project}/locations/{self.location}/services/{service_id}"

    def add_service(
        self,
        service_id: str,
        revisions: Sequence[FakeRevision],
        traffic: Sequence[tuple[str | None, int]],
        *,
        min_instances: int | None = None,
        max_instances: int | None = None,
        connector: str = "",
    ) -> object:
        """Store a service with its revisions (oldest first; the last is the latest) and its
        traffic split: ``(revision id, percent)``, ``None`` for "latest"."""
        name = self.service_name(service_id)
        with self._data_lock:
            service = _ServicePb(name=name, uid=f"uid-{service_id}", generation=1)
            service.uri = f"https://{service_id}-fake.a.run.app"
            _now_pb(service.create_time)
            _now_pb(service.update_time)
            if min_instances is not None:
                service.scaling.min_instance_count = min_instances
            if max_instances is not None:
                service.scaling.max_instance_count = max_instances
            latest = revisions[-1] if revisions else None
            if latest is not None:
                service.template.scaling.min_instance_count = latest.min_instances
                service.template.scaling.max_instance_count = latest.max_instances
            if connector:
                service.template.vpc_access.connector = connector
            service.template.containers.add(image=f"gcr.io/{self.project}/{service_id}:latest")
            for revision in revisions:
                self._store_revision(service, revision, connector)
            for revision_id, percent in traffic:
                target = service.traffic.add(percent=percent)
                if revision_id is None:
                    target.type_ = _LATEST_TYPE
                else:
                    target.type_ = _REVISION_TYPE
                    target.revision = revision_id
            ready = [r for r in revisions if r.ready]
            if ready:
                service.latest_ready_revision = f"{name}/revisions/{ready[-1].revision_id}"
            if latest is not None:
                service.latest_created_revision = f"{name}/revisions/{latest.revision_id}"
            self._finish(service)
            self.services[name] = service
            return service

    def _store_revision(self, service: object, revision: FakeRevision, connector: str) -> None:
        name = f"{service.name}/revisions/{revision.revision_id}"  # type: ignore[attr-defined]
        pb = _RevisionPb(name=name, uid=f"uid-{revision.revision_id}", generation=1)
        pb.service = service.name  # type: ignore[attr-defined]
        pb.scaling.min_instance_count = revision.min_instances
        pb.scaling.max_instance_count = revision.max_instances
        if connector:
            pb.vpc_access.connector = connector
        _now_pb(pb.create_time)
        pb.conditions.add(
            type_="Ready",
            state=_SUCCEEDED if revision.ready else run_v2.Condition.State.CONDITION_FAILED.value,
        )
        pb.etag = _etag(name, 1)
        self.revisions[name] = pb

    def _finish(self, service: object) -> None:
        """Recompute the derived fields: traffic statuses, conditions, etag."""
        svc = service
        del svc.traffic_statuses[:]  # type: ignore[attr-defined]
        latest_ready = svc.latest_ready_revision.rsplit("/", 1)[-1]  # type: ignore[attr-defined]
        for target in svc.traffic:  # type: ignore[attr-defined]
            status = svc.traffic_statuses.add(  # type: ignore[attr-defined]
                type_=target.type_, percent=target.percent, tag=target.tag
            )
            status.revision = target.revision if target.type_ == _REVISION_TYPE else latest_ready
        svc.observed_generation = svc.generation  # type: ignore[attr-defined]
        del svc.conditions[:]  # type: ignore[attr-defined]
        svc.terminal_condition.type_ = "Ready"  # type: ignore[attr-defined]
        svc.terminal_condition.state = _SUCCEEDED  # type: ignore[attr-defined]
        svc.etag = _etag(svc.name, svc.generation, time.monotonic_ns())  # type: ignore[attr-defined]

    def fail_next_operation(self, code: grpc.StatusCode, message: str) -> None:
        """The next ``UpdateService`` operation finishes with this error (nothing is applied)."""
        self._fail_next_operation = (code.value[0], message)

    def get(self, service_id: str) -> object:
        """The stored service (a raw ``Service`` protobuf), for assertions."""
        with self._data_lock:
            return self.services[self.service_name(service_id)]

    # -- Services --------------------------------------------------------------------------------

    def _find_service(self, name: str, context: grpc.ServicerContext) -> object:
        with self._data_lock:
            service = self.services.get(name)
        if service is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Resource '{name}' was not found")
        return service

    def _get_service(self, request: object, context: grpc.ServicerContext) -> object:
        return self._find_service(request.name, context)  # type: ignore[attr-defined]

    def _list_services(self, request: object, context: grpc.ServicerContext) -> object:
        pb = run_v2.ListServicesRequest.pb(request)
        parent = pb.parent.replace("/locations/-", "/locations/")
        with self._data_lock:
            names = sorted(n for n in self.services if n.startswith(parent))
            return fill_page(
                run_v2.ListServicesResponse.pb()(),
                "services",
                [self.services[n] for n in names],
                pb.page_size,
                pb.page_token,
                context,
                default_size=LIST_PAGE_SIZE,
            )

    def _update_service(self, request: object, context: grpc.ServicerContext) -> object:
        pb = run_v2.UpdateServiceRequest.pb(request)
        wanted = pb.service
        with self._data_lock:
            current = self.services.get(wanted.name)
            if current is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Resource '{wanted.name}' was not found")
            if wanted.etag and wanted.etag != current.etag:  # type: ignore[attr-defined]
                context.abort(
                    grpc.StatusCode[self.etag_conflict_code],
                    f"The etag provided ({wanted.etag}) does not match the current etag of "
                    f"'{wanted.name}' ({current.etag}): it was modified concurrently; read it "  # type: ignore[attr-defined]
                    "again and retry",
                )
            updated = _ServicePb()
            updated.CopyFrom(current)
            fields = list(pb.update_mask.paths) or [
                "description",
                "labels",
                "annotations",
                "template",
                "traffic",
                "scaling",
                "ingress",
            ]
            for field_name in fields:
                top = field_name.split(".")[0]
                if top not in _ServicePb.DESCRIPTOR.fields_by_name:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unknown field {field_name!r}")
                updated.ClearField(top)
                descriptor = _ServicePb.DESCRIPTOR.fields_by_name[top]
                target, value = getattr(updated, top), getattr(wanted, top)
                if hasattr(target, "extend"):  # repeated
                    target.extend(value)
                elif hasattr(target, "update") and not hasattr(target, "CopyFrom"):  # map
                    target.update(value)
                elif descriptor.message_type is not None:
                    if wanted.HasField(top):
                        target.CopyFrom(value)
                else:
                    setattr(updated, top, value)
            new_revision = None
            if _template_key(updated.template) != _template_key(current.template):  # type: ignore[attr-defined]
                revision_id = updated.template.revision or self._next_revision_id(current)
                new_revision = FakeRevision(
                    revision_id,
                    updated.template.scaling.min_instance_count,
                    updated.template.scaling.max_instance_count or 100,
                )
            try:
                self._validate(updated, new_revision)
            except _RejectedError as exc:
                context.abort(exc.code, str(exc))
            operation = operations_pb2.Operation(
                name=f"projects/{self.project}/locations/{self.location}/operations/"
                f"op-{next(self._ids)}"
            )
            if pb.validate_only:
                self._finish(updated)
                _complete(operation, updated)
                return operation
            if self._fail_next_operation is not None:
                code, message = self._fail_next_operation
                self._fail_next_operation = None
                operation.metadata.Pack(current)
                operation.done = True
                operation.error.CopyFrom(status_pb2.Status(code=code, message=message))
                self.operations[operation.name] = _PendingOperation(operation, 0, current.name)  # type: ignore[attr-defined]
                return operation
            if new_revision is not None:
                self._store_revision(updated, new_revision, updated.template.vpc_access.connector)
                full = f"{updated.name}/revisions/{new_revision.revision_id}"
                updated.latest_created_revision = full
                updated.latest_ready_revision = full
            updated.generation = current.generation + 1  # type: ignore[attr-defined]
            _now_pb(updated.update_time)
            self._finish(updated)
            updated.reconciling = self.operation_polls > 0
            self.services[updated.name] = updated
            operation.metadata.Pack(updated)
            if self.operation_polls <= 0:
                updated.reconciling = False
                _complete(operation, updated)
            self.operations[operation.name] = _PendingOperation(
                operation, self.operation_polls, updated.name
            )
            return operation

    def _next_revision_id(self, service: object) -> str:
        """Cloud Run's naming: ``SERVICE-NNNNN-xyz``, the number one past the newest."""
        name = service.name  # type: ignore[attr-defined]
        short = name.rsplit("/", 1)[-1]
        numbers = [
            int(match.group(1))
            for full in self.revisions
            if full.startswith(name + "/")
            and (match := re.search(r"-(\d{5})-[a-z0-9]{3}$", full)) is not None
        ]
        number = max(numbers, default=0) + 1
        suffix = hashlib.sha1(f"{name}{number}".encode()).hexdigest()[:3]
        return f"{short}-{number:05d}-{suffix}"

    def _validate(self, service: object, new_revision: FakeRevision | None) -> None:
        svc = service
        known = {n.rsplit("/", 1)[-1] for n in self.revisions if n.startswith(svc.name + "/")}  # type: ignore[attr-defined]
        if new_revision is not None:
            known.add(new_revision.revision_id)
        if len(svc.traffic):  # type: ignore[attr-defined]
            total = 0
            for target in svc.traffic:  # type: ignore[attr-defined]
                if not 0 <= target.percent <= 100:
                    raise _RejectedError(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"traffic percent {target.percent} is not between 0 and 100",
                    )
                if target.type_ == _REVISION_TYPE and target.revision not in known:
                    raise _RejectedError(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"Revision named '{target.revision}' with traffic percent "
                        f"{target.percent} does not exist",
                    )
                total += target.percent
            if total != 100:
                raise _RejectedError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"traffic percentages must add up to 100, not {total}",
                )
        for where, scaling in (("service", svc.scaling), ("template", svc.template.scaling)):  # type: ignore[attr-defined]
            low, high = scaling.min_instance_count, scaling.max_instance_count
            if high and low > high:
                raise _RejectedError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"{where} scaling: min_instance_count {low} is greater than "
                    f"max_instance_count {high}",
                )
            if high > self.max_instances_limit:
                raise _RejectedError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"{where} scaling: max_instance_count {high} exceeds the limit "
                    f"{self.max_instances_limit}",
                )

    # -- Revisions -------------------------------------------------------------------------------

    def _get_revision(self, request: object, context: grpc.ServicerContext) -> object:
        name = request.name  # type: ignore[attr-defined]
        with self._data_lock:
            revision = self.revisions.get(name)
        if revision is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Resource '{name}' was not found")
        return revision

    def _list_revisions(self, request: object, context: grpc.ServicerContext) -> object:
        pb = run_v2.ListRevisionsRequest.pb(request)
        with self._data_lock:
            if pb.parent not in self.services:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Resource '{pb.parent}' was not found")
            revisions = [r for n, r in self.revisions.items() if n.startswith(pb.parent + "/")]
            revisions.reverse()  # newest first, like the real API
            return fill_page(
                run_v2.ListRevisionsResponse.pb()(),
                "revisions",
                revisions,
                pb.page_size,
                pb.page_token,
                context,
                default_size=LIST_PAGE_SIZE,
            )

    # -- Operations ------------------------------------------------------------------------------

    def _poll_operation(self, name: str, context: grpc.ServicerContext, *, finish: bool) -> object:
        with self._data_lock:
            pending = self.operations.get(name)
            if pending is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Operation '{name}' was not found")
            if not pending.operation.done:
                pending.polls_left -= 1
                if finish or pending.polls_left <= 0:
                    service = self.services[pending.service_name]
                    service.reconciling = False  # type: ignore[attr-defined]
                    _complete(pending.operation, service)
            return pending.operation

    def _get_operation(self, request: object, context: grpc.ServicerContext) -> object:
        return self._poll_operation(request.name, context, finish=False)  # type: ignore[attr-defined]

    def _wait_operation(self, request: object, context: grpc.ServicerContext) -> object:
        return self._poll_operation(request.name, context, finish=True)  # type: ignore[attr-defined]


def _serialize(message: object) -> bytes:
    return message.SerializeToString()  # type: ignore[attr-defined]


def _template_key(template: object) -> bytes:
    return template.SerializeToString(deterministic=True)  # type: ignore[attr-defined]


def _complete(operation: operations_pb2.Operation, service: object) -> None:
    packed = any_pb2.Any()
    packed.Pack(service)  # type: ignore[arg-type]
    operation.metadata.CopyFrom(packed)
    operation.response.CopyFrom(packed)
    operation.done = True
