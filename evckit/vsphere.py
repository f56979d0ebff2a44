"""Read-only vCenter collector: ``evckit collect`` and ``evckit check --server``.

It logs in, creates one ContainerView over hosts, clusters and VMs, reads only the properties evckit
needs with the PropertyCollector (``RetrievePropertiesEx``, then ``ContinueRetrievePropertiesEx`` per
page), destroys the view and logs out. Those are the only methods it can call: the SOAP stub refuses
every other one, so the collector cannot change anything. The result is a snapshot (format v1) that
`evckit.inventory.parse_snapshot` reads; several servers give several vCenters.

pyVmomi is imported only when collecting (``pip install 'evckit[vsphere]'``). The password comes from
the environment or a prompt, is sent only in ``Login`` and is never logged or saved. Every failure is
one `CollectError` line; a snapshot file is written atomically, or not at all.
"""

from __future__ import annotations

import contextlib
import getpass
import http.client
import json
import math
import os
import re
import socket
import ssl
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from evckit.errors import EvckitError

__all__ = [
    "ALLOWED_METHODS",
    "AuthError",
    "CollectError",
    "CollectTimeoutError",
    "MissingDependencyError",
    "PermissionDeniedError",
    "ResponseTooLargeError",
    "SessionLostError",
    "TlsError",
    "UnreachableError",
    "collect_snapshot",
    "read_password",
    "require_pyvmomi",
    "write_snapshot",
]

#: The only SOAP methods the collector's stub lets through.
ALLOWED_METHODS = frozenset({
    "RetrieveServiceContent", "Login", "Logout", "CreateContainerView", "DestroyView",
    "RetrievePropertiesEx", "ContinueRetrievePropertiesEx",
})

HOST_PROPERTIES = (
    "name", "parent", "summary.hardware.cpuModel", "hardware.cpuPkg", "hardware.cpuFeature",
    "config.featureCapability", "config.maskedFeatureCapability", "summary.maxEVCModeKey",
    "summary.currentEVCModeKey", "summary.config.product.version", "summary.config.product.build",
    "runtime.connectionState", "runtime.inMaintenanceMode",
)
# ``summary`` is declared as ComputeResourceSummary: its cluster-only fields (currentEVCModeKey,
# currentEVCGraphicsModeKey) are read with the whole (small) summary object.
CLUSTER_PROPERTIES = ("name", "summary")
VM_PROPERTIES = (
    "name", "config.version", "config.guestId", "config.template", "runtime.powerState", "runtime.host",
    "runtime.featureRequirement", "runtime.minRequiredEVCModeKey",
)
VM_PROPERTIES_67 = ("runtime.featureMask",)  # vSphere API 6.7 and later
SERVICE_PROPERTIES = ("capability.supportedEVCMode",)

DEFAULT_PAGE_SIZE = 1000
DEFAULT_TIMEOUT = 60.0
DEFAULT_TOTAL_TIMEOUT = 3600.0
DEFAULT_RETRIES = 2
#: The largest answer evckit reads: one page of 1,000 hosts with every CPUID leaf is a few MB.
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
#: ``/sdk/vimServiceVersions.xml`` is a few hundred bytes.
MAX_VERSIONS_BYTES = 1024 * 1024
INSTALL_HINT = "pip install 'evckit[vsphere]'"

Progress = Callable[[str], None]


class CollectError(EvckitError):
    """Collecting from a vCenter failed; the message is one line that names the server."""


class MissingDependencyError(CollectError, ImportError):
    """pyVmomi is not installed."""


class UnreachableError(CollectError, ConnectionError):
    """The server cannot be reached (refused, unknown name, no route)."""


class TlsError(CollectError):
    """The TLS handshake failed, typically an unverifiable certificate."""


class AuthError(CollectError, PermissionError):
    """Wrong user name or password."""


class PermissionDeniedError(CollectError, PermissionError):
    """The user may not read what evckit needs."""


class SessionLostError(CollectError, ConnectionError):
    """The connection or the session was lost during the collection, and retries did not help."""


class CollectTimeoutError(CollectError, TimeoutError):
    """The server did not answer within the timeout."""


class _Dropped(Exception):
    """Internal: the connection dropped (or the session vanished); the collection may be retried."""


class _Guard:
    """Limits on what a server can make the collector do: time per call, time in all, bytes per answer.

    A socket timeout bounds each read only, so a server sending a byte a second could hold a call
    forever. Here every call runs under a timer: when the call's time (``--timeout``) or the whole
    collection's (``--total-timeout``) is up, the timer shuts the connection's sockets down, the call
    fails at once, and the failure is reported as a timeout. Every answer is counted as it is read
    and refused beyond ``max_bytes``.
    """

    def __init__(self, call_timeout: float, total_timeout: float, max_bytes: int = MAX_RESPONSE_BYTES) -> None:
        self.call_timeout = call_timeout
        self.total_timeout = total_timeout
        self.deadline = time.monotonic() + total_timeout
        self.max_bytes = max_bytes
        self.expired: str | None = None
        self.sockets: list[socket.socket] = []
        self.connection_class = self._connection_class()

    def call(self, what: str) -> contextlib.AbstractContextManager[None]:
        """Run one call under its deadline (the sooner of the call's and the collection's)."""
        return self._call(what)

    @contextlib.contextmanager
    def _call(self, what: str) -> Iterator[None]:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.expired = f"the whole collection took longer than {self.total_timeout:g} s (--total-timeout)"
            raise CollectTimeoutError(self.expired)
        limit = min(self.call_timeout, remaining)
        why = (f"no answer within {limit:g} s (--timeout) to {what}" if limit == self.call_timeout
               else f"the whole collection took longer than {self.total_timeout:g} s (--total-timeout)")
        timer = threading.Timer(limit, self._expire, (why,))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
        if self.expired is not None:  # cut short, yet what was read looked complete: still a timeout
            raise CollectTimeoutError(self.expired)

    def _expire(self, why: str) -> None:
        self.expired = why
        for sock in list(self.sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _connection_class(self, base: type[http.client.HTTPConnection] = http.client.HTTPSConnection,
                          ) -> type[http.client.HTTPSConnection]:
        guard = self

        class Response(http.client.HTTPResponse):
            def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
                super().__init__(sock, *args, **kwargs)
                self.fp = _CountingReader(self.fp, guard.max_bytes)  # type: ignore[assignment]

        class Connection(base):  # type: ignore[valid-type, misc]
            response_class = Response

            def connect(self) -> None:
                super().connect()
                if self.sock is not None:
                    guard.sockets.append(self.sock)

            def close(self) -> None:
                if self.sock is not None and self.sock in guard.sockets:
                    guard.sockets.remove(self.sock)
                super().close()

        return Connection


class ResponseTooLargeError(CollectError):
    """A server's answer is larger than evckit reads."""


class _CountingReader:
    """A response's byte stream that refuses to deliver more than ``limit`` bytes."""

    def __init__(self, raw: Any, limit: int) -> None:
        self._raw = raw
        self._limit = limit
        self._count = 0

    def _add(self, n: int) -> None:
        self._count += n
        if self._count > self._limit:
            raise ResponseTooLargeError(f"answer larger than {self._limit} bytes: refused")

    def read(self, *args: Any) -> bytes:
        data: bytes = self._raw.read(*args)
        self._add(len(data))
        return data

    def read1(self, *args: Any) -> bytes:
        data: bytes = self._raw.read1(*args)
        self._add(len(data))
        return data

    def readline(self, *args: Any) -> bytes:
        data: bytes = self._raw.readline(*args)
        self._add(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        n: int = self._raw.readinto(buffer)
        self._add(n or 0)
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def require_pyvmomi() -> None:
    """Raise `MissingDependencyError` (saying what to install) when pyVmomi is missing: call it before
    asking for a password."""
    _import_pyvmomi()


def _import_pyvmomi() -> tuple[Any, Any, Any]:
    try:
        from pyVmomi import vim, vmodl  # noqa: PLC0415
        from pyVmomi.SoapAdapter import SoapStubAdapter  # noqa: PLC0415
    except ImportError:
        raise MissingDependencyError(f"collecting from vCenter needs pyVmomi: {INSTALL_HINT}") from None
    return vim, vmodl, SoapStubAdapter


# --- inputs --------------------------------------------------------------------------------------


def parse_server(text: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or ``https://host[:port][/sdk]`` -> (host, port)."""
    raw = text.strip()
    if "@" in raw:
        # https://user:password@host would carry a password in argv, progress, the snapshot and reports.
        raise CollectError("--server: a user name or password in the server address is refused (it would be "
                           "shown and saved); give --user USER, and the password by $EVCKIT_PASSWORD or the prompt")
    usage = f"--server {_short(text)}: give HOST, HOST:PORT or https://HOST[:PORT]"
    if "://" in raw:
        try:
            parts = urlsplit(raw)
            port = parts.port or 443
        except ValueError:
            raise CollectError(usage) from None
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment \
                or parts.path not in ("", "/", "/sdk", "/sdk/"):
            raise CollectError(usage)
        return _check_host_name(text, parts.hostname), port
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?|([^\s:/\[\]]+)(?::(\d{1,5}))?", raw)
    if not m:
        raise CollectError(usage)
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4) or 443)
    if not 0 < port < 65536:
        raise CollectError(f"--server {_short(text)}: port {port} is out of range")
    return (host if m.group(1) else _check_host_name(text, host)), port


def _short(text: str, limit: int = 80) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"


def _check_host_name(text: str, host: str) -> str:
    """A DNS name the resolver can take: labels of 1 to 63 characters, 253 in all (IDNA's limits)."""
    if ":" in host:  # an IPv6 address from a URL
        return host
    try:
        encoded = host.encode("idna")
    except UnicodeError:
        raise CollectError(f"--server {_short(text)}: not a valid host name (each dot-separated part must be "
                           "1 to 63 characters)") from None
    if len(encoded) > 253:
        raise CollectError(f"--server {_short(text)}: host name longer than 253 characters")
    return host


def read_password(env_name: str | None = None, prompt: str = "Password: ") -> str:
    """The password: from ``$EVCKIT_PASSWORD`` (or the variable ``env_name``), else an interactive prompt."""
    name = env_name or "EVCKIT_PASSWORD"
    value = os.environ.get(name)
    if value:
        return value
    if env_name:
        raise CollectError(f"--password-env {env_name}: the environment variable is not set or empty")
    if sys.stdin is not None and sys.stdin.isatty():
        try:
            value = getpass.getpass(prompt)
        except EOFError:  # Ctrl-D; Ctrl-C stays an interruption (exit status 130)
            value = ""
        if value:
            return value
        raise CollectError("no password given")
    raise CollectError("no password: set EVCKIT_PASSWORD, name another variable with --password-env NAME, "
                       "or run in a terminal to be prompted")


def ssl_context(insecure: bool = False, ca_file: str | None = None) -> ssl.SSLContext:
    """Verified TLS by default (system CAs, or only those of ``ca_file``); ``insecure`` skips checks."""
    if insecure:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    try:
        return ssl.create_default_context(cafile=ca_file)
    except FileNotFoundError:
        raise CollectError(f"--ca-file {ca_file}: no such file") from None
    except (OSError, ssl.SSLError) as exc:
        raise CollectError(f"--ca-file {ca_file}: not a PEM CA certificate file ({_one_line(exc)})") from None


# --- one server ----------------------------------------------------------------------------------


class _Session:
    """One vCenter: connection, read-only stub, collection, translation of failures."""

    def __init__(self, server: str, user: str, password: str, ctx: ssl.SSLContext, timeout: float,  # noqa: PLR0913
                 page_size: int, progress: Progress, calls: list[str] | None, guard: _Guard | None = None) -> None:
        self.server = server
        self.guard = guard or _Guard(timeout, DEFAULT_TOTAL_TIMEOUT)
        self.host, self.port = parse_server(server)
        self.user = user
        self._password = password
        self.ctx = ctx
        self.timeout = timeout
        self.page_size = page_size
        self.progress = progress
        self.calls = calls
        self.vim, self.vmodl, self._stub_class = _import_pyvmomi()

    # connection ----------------------------------------------------------------------------------

    def _negotiate(self) -> str:
        """The newest API version both pyVmomi and the server speak (``/sdk/vimServiceVersions.xml``)."""
        from pyVmomi.VmomiSupport import GetServiceVersions, versionIdMap  # noqa: PLC0415

        conn = self.guard.connection_class(self.host, self.port, timeout=self.timeout, context=self.ctx)
        try:
            with self.guard.call("GET /sdk/vimServiceVersions.xml"):
                conn.request("GET", "/sdk/vimServiceVersions.xml")
                resp = conn.getresponse()
                body = resp.read(MAX_VERSIONS_BYTES + 1)
        finally:
            conn.close()
        if len(body) > MAX_VERSIONS_BYTES:
            raise ResponseTooLargeError(f"{self.server}: not a vSphere API endpoint (vimServiceVersions.xml "
                                        f"larger than {MAX_VERSIONS_BYTES} bytes)")
        if resp.status != 200:
            raise CollectError(f"{self.server}: not a vSphere API endpoint "
                               f"(GET /sdk/vimServiceVersions.xml: HTTP {resp.status})")
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            raise CollectError(f"{self.server}: not a vSphere API endpoint (unreadable vimServiceVersions.xml)") \
                from None
        offered = {(e.text or "").strip() for e in root.iter("version")}
        for version in GetServiceVersions("vim25"):  # type: ignore[no-untyped-call]
            if versionIdMap.get(version) in offered:
                return str(version)
        raise CollectError(f"{self.server}: no vSphere API version in common (server offers "
                           f"{', '.join(sorted(offered)) or 'none'})")

    def _stub(self, version: str) -> Any:
        allowed, calls, guard = ALLOWED_METHODS, self.calls, self.guard

        class ReadOnlyStub(self._stub_class):  # type: ignore[misc, name-defined]
            """Lets through only the collector's methods; property accessors (``Fetch``) are refused too."""

            def InvokeMethod(self, mo: Any, info: Any, args: Any, outerStub: Any = None) -> Any:  # noqa: N802, N803
                name = info.wsdlName
                if name not in allowed:
                    raise CollectError(f"internal error: the read-only collector refused to call {name}")
                if calls is not None:
                    calls.append(name)
                with guard.call(name):
                    return super().InvokeMethod(mo, info, args, outerStub)

        stub = ReadOnlyStub(host=self.host, port=self.port, version=version, path="/sdk", sslContext=self.ctx,
                            httpConnectionTimeout=self.timeout, connectionPoolTimeout=-1)
        stub.scheme = guard.connection_class  # deadlines and the size cap on every connection
        return stub

    def collect(self) -> dict[str, Any]:
        """Log in, read everything, log out; raise `CollectError` or `_Dropped`."""
        stub = self._stub(self._negotiate())
        try:
            return self._collect(stub)
        finally:
            stub.DropConnections()  # the pooled connections, whatever happened

    def _collect(self, stub: Any) -> dict[str, Any]:
        vim = self.vim
        si = vim.ServiceInstance("ServiceInstance", stub)
        content = si.RetrieveContent()
        content.sessionManager.Login(self.user, self._password, None)
        view = None
        try:
            view = content.viewManager.CreateContainerView(
                content.rootFolder, [vim.HostSystem, vim.ClusterComputeResource, vim.VirtualMachine], True)
            objects = self._retrieve(content, si, view)
            view.DestroyView()
            view = None
            content.sessionManager.Logout()
        except BaseException as exc:
            # Clean up only over a connection that still works: after a drop or a timeout it would
            # only wait again. The original failure is what the user sees.
            if isinstance(exc, (self.vmodl.MethodFault, CollectError)) \
                    and not isinstance(exc, self.vim.fault.NotAuthenticated):
                try:
                    if view is not None:
                        view.DestroyView()
                    content.sessionManager.Logout()
                except Exception:  # noqa: BLE001, S110 - best effort
                    pass
            raise
        return _vcenter_json(self.server, content.about, objects, self.vim, self.progress)

    def _retrieve(self, content: Any, si: Any, view: Any) -> list[Any]:
        vim, vmodl = self.vim, self.vmodl
        pc_types = vmodl.query.PropertyCollector
        vm_props = list(VM_PROPERTIES)
        if _api_at_least(content.about.apiVersion, (6, 7)):
            vm_props += VM_PROPERTIES_67
        spec = pc_types.FilterSpec(
            objectSet=[
                pc_types.ObjectSpec(obj=view, skip=True, selectSet=[
                    pc_types.TraversalSpec(name="view", type=vim.view.ContainerView, path="view", skip=False)]),
                pc_types.ObjectSpec(obj=si, skip=False),
            ],
            propSet=[
                pc_types.PropertySpec(type=vim.HostSystem, pathSet=list(HOST_PROPERTIES)),
                pc_types.PropertySpec(type=vim.ClusterComputeResource, pathSet=list(CLUSTER_PROPERTIES)),
                pc_types.PropertySpec(type=vim.VirtualMachine, pathSet=vm_props),
                pc_types.PropertySpec(type=vim.ServiceInstance, pathSet=list(SERVICE_PROPERTIES)),
            ],
            reportMissingObjectsInResults=False,
        )
        collector = content.propertyCollector
        result = collector.RetrievePropertiesEx([spec], pc_types.RetrieveOptions(maxObjects=self.page_size))
        objects: list[Any] = []
        while result is not None:
            for oc in result.objects or ():
                self._check_missing(oc)
                objects.append(oc)
            self.progress(f"{self.server}: {len(objects)} objects retrieved")
            if not result.token:
                break
            result = collector.ContinueRetrievePropertiesEx(result.token)
        return objects

    def _check_missing(self, oc: Any) -> None:
        for missing in oc.missingSet or ():
            if isinstance(missing.fault, self.vim.fault.NoPermission):
                raise PermissionDeniedError(
                    f"{self.server}: user {self.user} may not read {missing.path} of {_moid(oc.obj)} "
                    f"(needs privilege {missing.fault.privilegeId or 'System.Read'})")

    # failures ------------------------------------------------------------------------------------

    def translate(self, exc: BaseException, retrying: bool) -> BaseException:
        """Map any failure to a `CollectError`, or to `_Dropped` when retrying may help."""
        vim, vmodl = self.vim, self.vmodl
        server = self.server
        if isinstance(exc, ResponseTooLargeError):
            return ResponseTooLargeError(f"{server}: {exc}")
        if self.guard.expired is not None:  # the deadline cut the connection: whatever broke, it is a timeout
            return CollectTimeoutError(f"{server}: {self.guard.expired}")
        if isinstance(exc, CollectError):
            return exc
        if isinstance(exc, UnicodeError):  # the resolver's IDNA check
            return UnreachableError(f"cannot reach {server}: not a valid host name")
        if isinstance(exc, ssl.SSLCertVerificationError):
            return TlsError(f"{server}: TLS certificate verification failed ({_one_line(exc.verify_message)}); "
                            "trust its CA with --ca-file FILE, or skip verification with --insecure")
        if isinstance(exc, ssl.SSLError):
            return TlsError(f"{server}: TLS failure: {_one_line(exc.reason or exc)}")
        if isinstance(exc, TimeoutError):
            return CollectTimeoutError(f"{server}: no answer within {self.timeout:g} s (--timeout)")
        if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError,
                            http.client.RemoteDisconnected, http.client.IncompleteRead)):
            return _Dropped(_one_line(exc) or type(exc).__name__)
        if isinstance(exc, (ConnectionRefusedError, socket.gaierror, OSError)):
            text = _one_line(getattr(exc, "strerror", None) or exc)
            if retrying:
                return _Dropped(text)
            return UnreachableError(f"cannot reach {server} (port {self.port}): {text}")
        if isinstance(exc, http.client.HTTPException):
            return _Dropped(_one_line(exc) or type(exc).__name__)
        if isinstance(exc, vim.fault.InvalidLogin):
            return AuthError(f"{server}: login as {self.user} failed: wrong user name or password")
        if isinstance(exc, vim.fault.NotAuthenticated):
            return _Dropped("the session is no longer valid")
        if isinstance(exc, vim.fault.NoPermission):
            obj = _moid(exc.object) if getattr(exc, "object", None) is not None else "the inventory"
            return PermissionDeniedError(f"{server}: user {self.user} lacks permission "
                                         f"{exc.privilegeId or 'System.Read'} on {obj}")
        if isinstance(exc, vmodl.MethodFault):
            msg = _one_line(getattr(exc, "msg", "") or "")
            return CollectError(f"{server}: vSphere fault {type(exc).__name__.rsplit('.', 1)[-1]}"
                                + (f": {msg}" if msg else ""))
        return exc


def _api_at_least(version: str | None, want: tuple[int, ...]) -> bool:
    nums = tuple(int(x) for x in re.findall(r"\d+", version or "")[:len(want)])
    return nums >= want if nums else True


def _moid(obj: Any) -> str:
    return str(getattr(obj, "_moId", obj))


# --- conversion to the snapshot format -----------------------------------------------------------


def _entries(items: Iterable[Any] | None, fields: Sequence[str]) -> list[dict[str, Any]]:
    return [{f: getattr(e, f, None) for f in fields} for e in items or ()]


_KV = ("key", "featureName", "value")
_CPUID = ("level", "vendor", "eax", "ebx", "ecx", "edx")


def _mask_key(entries: Iterable[Mapping[str, Any]]) -> frozenset[tuple[str, str]]:
    return frozenset((str(e.get("key", "")).lower(), str(e.get("value", ""))) for e in entries)


def _unique_names(objs: Mapping[str, dict[str, Any]]) -> dict[str, str]:
    """moid -> name; names that occur twice (e.g. in two datacenters) get their moid appended."""
    count: dict[str, int] = {}
    for props in objs.values():
        count[props.get("name") or ""] = count.get(props.get("name") or "", 0) + 1
    return {moid: (name if (name := props.get("name") or "") and count[name] == 1 else f"{name} ({moid})")
            for moid, props in objs.items()}


def _vcenter_json(server: str, about: Any, objects: Sequence[Any], vim: Any, progress: Progress) -> dict[str, Any]:
    by_kind: dict[str, dict[str, dict[str, Any]]] = {"host": {}, "cluster": {}, "vm": {}, "si": {}}
    for oc in objects:
        props = {p.name: p.val for p in oc.propSet or ()}
        obj = oc.obj
        kind = ("host" if isinstance(obj, vim.HostSystem) else "cluster" if isinstance(obj, vim.ClusterComputeResource)
                else "vm" if isinstance(obj, vim.VirtualMachine) else "si" if isinstance(obj, vim.ServiceInstance)
                else None)
        if kind is not None:
            by_kind[kind][_moid(obj)] = props
    si_props = next(iter(by_kind["si"].values()), {})

    modes = []
    for m in si_props.get("capability.supportedEVCMode") or ():
        mode: dict[str, Any] = {"key": m.key, "label": m.label, "summary": m.summary, "vendor": m.vendor,
                                "vendorTier": m.vendorTier, "track": list(m.track or ())}
        for field in ("featureCapability", "featureMask", "featureRequirement"):
            entries = _entries(getattr(m, field, None), _KV)
            if entries:
                mode[field] = entries
        modes.append({k: v for k, v in mode.items() if v not in (None, "", [])})
    per_vm_modes: dict[frozenset[tuple[str, str]], str | None] = {}
    for mode in modes:
        if mode.get("featureMask"):
            key = _mask_key(mode["featureMask"])
            per_vm_modes[key] = None if key in per_vm_modes else mode["key"]  # ambiguous: no answer

    cluster_names = _unique_names(by_kind["cluster"])
    clusters = []
    for moid, props in by_kind["cluster"].items():
        summary = props.get("summary")
        clusters.append({
            "name": cluster_names[moid],
            "evc_mode": getattr(summary, "currentEVCModeKey", None) or None,
            **({"evc_graphics_mode": g} if (g := getattr(summary, "currentEVCGraphicsModeKey", None)) else {}),
        })

    host_names = _unique_names(by_kind["host"])
    hosts = []
    for moid, props in by_kind["host"].items():
        parent = props.get("parent")
        cluster = cluster_names.get(_moid(parent)) if isinstance(parent, vim.ClusterComputeResource) else None
        pkgs = list(props.get("hardware.cpuPkg") or ())
        cpu_feature = _entries(props.get("hardware.cpuFeature"), _CPUID)
        if not cpu_feature and pkgs:
            cpu_feature = _entries(pkgs[0].cpuFeature, _CPUID)
        cpu: dict[str, Any] = {
            "model": (props.get("summary.hardware.cpuModel") or "").strip() or None,
            "vendor": (pkgs[0].vendor or "").lower() or None if pkgs else None,
            "cpu_feature": cpu_feature,
            "feature_capability": _entries(props.get("config.featureCapability"), _KV),
            "masked_feature_capability": _entries(props.get("config.maskedFeatureCapability"), _KV),
        }
        host: dict[str, Any] = {
            "name": host_names[moid],
            "cluster": cluster,
            "esxi_version": props.get("summary.config.product.version") or None,
            "esxi_build": props.get("summary.config.product.build") or None,
            "connection_state": props.get("runtime.connectionState") or None,
            "maintenance": bool(props.get("runtime.inMaintenanceMode")),
            "max_evc_mode": props.get("summary.maxEVCModeKey") or None,
            "current_evc_mode": props.get("summary.currentEVCModeKey") or None,
            "cpu": {k: v for k, v in cpu.items() if v not in (None, [])},
        }
        hosts.append({k: v for k, v in host.items() if v is not None or k == "cluster"})

    vm_names = _unique_names(by_kind["vm"])
    vms = []
    skipped = []
    for moid, props in by_kind["vm"].items():
        host_ref = props.get("runtime.host")
        host_name = host_names.get(_moid(host_ref)) if host_ref is not None else None
        version = props.get("config.version")
        if host_name is None or not version:
            skipped.append(vm_names[moid])
            continue
        mask = _entries(props.get("runtime.featureMask"), _KV)
        vm: dict[str, Any] = {
            "name": vm_names[moid],
            "host": host_name,
            "power_state": props.get("runtime.powerState"),
            "hardware_version": version,
            "guest_id": props.get("config.guestId") or None,
            "template": True if props.get("config.template") else None,
            "feature_requirement": _entries(props.get("runtime.featureRequirement"), _KV) or None,
            "min_required_evc_mode": props.get("runtime.minRequiredEVCModeKey") or None,
            "per_vm_evc": per_vm_modes.get(_mask_key(mask)) if mask else None,
            "feature_mask": mask or None,
        }
        vms.append({k: v for k, v in vm.items() if v is not None})
    if skipped:
        shown = ", ".join(sorted(skipped)[:5]) + (" …" if len(skipped) > 5 else "")
        progress(f"{server}: skipped {len(skipped)} VM(s) without a visible host or configuration: {shown}")

    vc: dict[str, Any] = {"name": server}
    if getattr(about, "version", None):
        vc["version"] = about.version
    if getattr(about, "build", None):
        vc["build"] = about.build
    if modes:
        vc["evc_modes"] = modes
    vc["clusters"] = sorted(clusters, key=lambda c: c["name"])
    vc["hosts"] = sorted(hosts, key=lambda h: h["name"])
    vc["vms"] = sorted(vms, key=lambda v: v["name"])
    progress(f"{server}: {len(hosts)} hosts, {len(clusters)} clusters, {len(vms)} VMs")
    return vc


# --- public API ----------------------------------------------------------------------------------


def collect_snapshot(  # noqa: PLR0913 - the connection settings
    servers: Sequence[str], user: str, password: str, *, insecure: bool = False, ca_file: str | None = None,
    timeout: float = DEFAULT_TIMEOUT, page_size: int = DEFAULT_PAGE_SIZE, retries: int = DEFAULT_RETRIES,
    progress: Progress | None = None, calls: list[str] | None = None, total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
) -> dict[str, Any]:
    """Collect one snapshot (format v1) from one or more vCenters; raise `CollectError` on any failure.

    ``timeout`` bounds each call (its whole answer, not each read), ``total_timeout`` the whole
    collection from every server. ``calls``, if given, receives the name of every SOAP method invoked.
    """
    say = progress or (lambda _msg: None)
    if not servers:
        raise CollectError("give at least one --server")
    if len(set(servers)) != len(servers):
        raise CollectError("the same --server is given twice")
    if not user:
        raise CollectError("give --user")
    for name, value in (("--timeout", timeout), ("--total-timeout", total_timeout)):
        if not math.isfinite(value) or value <= 0:
            raise CollectError(f"{name} {value:g}: must be a positive, finite number of seconds")
    for server in servers:
        parse_server(server)  # every address is checked before anything is sent anywhere
    if page_size < 1:
        raise CollectError(f"--page-size {page_size}: must be at least 1")
    _import_pyvmomi()
    ctx = ssl_context(insecure, ca_file)
    vcenters = []
    guard = _Guard(timeout, total_timeout)
    for server in servers:
        session = _Session(server, user, password, ctx, timeout, page_size, say, calls, guard)
        vcenters.append(_collect_with_retries(session, retries))
    from evckit import __version__  # noqa: PLC0415

    return {
        "evckit_snapshot": 1,
        "description": f"Collected by evckit {__version__} from {', '.join(servers)}",
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "vcenters": vcenters,
    }


def _collect_with_retries(session: _Session, retries: int) -> dict[str, Any]:
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            session.progress(f"{session.server}: connection lost ({last}); retry {attempt} of {retries}")
            time.sleep(min(0.5 * attempt, 2.0))
        try:
            try:
                return session.collect()
            except Exception as exc:  # translated below: nothing escapes untranslated but bugs
                translated = session.translate(exc, retrying=attempt > 0)
                if translated is exc:
                    raise
                raise translated from None
        except _Dropped as dropped:
            last = str(dropped)
    raise SessionLostError(f"{session.server}: connection lost during the collection, "
                           f"{retries + 1} attempt(s): {last}")


def _flat(value: object) -> bool:
    return not isinstance(value, (dict, list)) or (
        isinstance(value, list) and not any(isinstance(x, (dict, list)) for x in value))


def _dumps(value: object, level: int = 0) -> str:
    """JSON with one line per object that holds no nested objects (a feature entry, a cluster…)."""
    pad = "  " * level
    if isinstance(value, dict) and not all(_flat(v) for v in value.values()):
        items = [f"{pad}  {json.dumps(k)}: {_dumps(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and not _flat(value):
        return "[\n" + ",\n".join(f"{pad}  {_dumps(v, level + 1)}" for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def write_snapshot(doc: Mapping[str, Any], path: str | Path) -> None:
    """Write a snapshot atomically: a temporary file in the same directory, then a rename."""
    path = Path(path)
    text = _dumps(doc) + "\n"
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise CollectError(f"cannot write {path}: {_one_line(exc.strerror or exc)}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise CollectError(f"cannot write {path}: {_one_line(exc.strerror or exc)}") from None
        raise
