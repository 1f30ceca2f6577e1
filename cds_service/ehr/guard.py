"""Where the EHR's access token may go: the one guard for every FHIR URL the service requests.

CDS Hooks hands us a bearer token for ``fhirServer``; sent anywhere else it is a
leak. So the decision is taken here and nowhere else:

- ``FhirServer.admit`` decides whether a call may name its ``fhirServer`` at all:
  a verified caller's issuer (and tenant) allowlist, exact base URL; a caller
  without a token (development only) any https server or an http one on
  loopback; https only in production, whatever the allowlist says;
- ``FhirServer.url`` turns every query, ``next`` link and redirect into an
  absolute URL and refuses any that is not on that server (same scheme, host and
  port, under its base path). The FHIR client requests nothing else.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from .errors import FetchUnavailable

_DEFAULT_PORTS = {"http": 80, "https": 443}
OFF_SERVER = "a link or redirect points off the FHIR server; not followed"


class ServerNotAllowed(Exception):
    """The caller may not send us to this fhirServer (answered 403 before any request)."""


def normalise_base(url: str) -> str | None:
    """``HTTPS://Host:443/fhir/`` -> ``https://host/fhir``; None when not a plain http(s) base URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.query or parts.fragment or parts.username \
            or parts.password:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with default ports made explicit: what "same server" means."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


@dataclass(frozen=True, slots=True)
class FhirServer:
    """An admitted ``fhirServer``: the only place requests carrying the EHR's token may go."""

    base: str  # as the request spelled it, without a trailing slash

    @classmethod
    def admit(cls, url: object, *, allowlist: frozenset[str] | None, https_only: bool) -> FhirServer:
        """The server if the caller may send us there, else ``ServerNotAllowed``.

        ``allowlist`` holds normalised base URLs (None: no verified caller, development only).
        """
        base = normalise_base(url) if isinstance(url, str) else None
        if base is None or (https_only and not base.startswith("https://")):
            allowed = False
        elif allowlist is not None:
            allowed = base in allowlist
        else:
            allowed = base.startswith("https://") or is_loopback(base)
        if not allowed:
            raise ServerNotAllowed("fhirServer is not an allowed FHIR server for this client")
        return cls(str(url).rstrip("/"))

    def url(self, target: str, *, relative_to: str | None = None) -> str:
        """``target`` (a query, a next link, a redirect ``Location``) as an absolute URL on this
        server; ``FetchUnavailable`` when it points anywhere else."""
        absolute = urljoin(relative_to or self.base + "/", target)
        base_path = urlsplit(self.base).path.rstrip("/") + "/"
        if origin(absolute) != origin(self.base) or not (urlsplit(absolute).path.rstrip("/") + "/").startswith(
                base_path):
            raise FetchUnavailable(OFF_SERVER, "off-server")
        return absolute

    def resource_type_of(self, url: str) -> str:
        """The resource type a URL addresses, for logs (never the id or the query)."""
        first = self._relative_path(url).strip("/").split("/", 1)[0]
        return first if first[:1].isupper() and first.isalnum() else "page"

    def is_read(self, url: str) -> bool:
        """``Type/id`` (a read, where 404 means "no such resource") rather than a search."""
        return not urlsplit(url).query and len([s for s in self._relative_path(url).split("/") if s]) == 2

    def _relative_path(self, url: str) -> str:
        path = urlsplit(url).path
        base_path = urlsplit(self.base).path.rstrip("/")
        return path[len(base_path):] if path.startswith(base_path) else path
