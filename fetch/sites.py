"""Where the crawler may go: origins (scheme, host, port) and sites (registrable domains).

A crawl task owns one *origin*: it follows listing pages, pagination and redirects only there (a
different port or scheme is another origin, never reached by a link or a redirect). A document
it finds on another origin (an attachment on the portal's file server, an article on the
disclosure platform's host) is fetched only when that origin belongs to the same *site* as one of
the agency's registered listing hosts — same scheme and port, same registrable domain under the
public suffix list (``www.x.gov.cn`` and ``xxgk.x.gov.cn`` are one site, ``abc.sh.cn`` and
``www.sh.cn`` are two) — or is listed in the agency's ``attachment_hosts`` hint; and then for that
document only: nothing it links is followed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


class OriginError(ValueError):
    """A URL that has no usable http(s) origin."""


def origin_of(url: str) -> str:
    """``scheme://host:port`` of an http(s) URL, lower-case, the port always written out."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:  # a port that is not a number, a bad IPv6 literal
        raise OriginError(f"not a usable URL: {url!r} ({e})") from e
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        raise OriginError(f"not an http(s) URL: {url!r}")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS[scheme]}"


def try_origin(url: str) -> str | None:
    try:
        return origin_of(url)
    except OriginError:
        return None


def host_port(origin: str) -> str:
    """``host:port`` of an origin (how hints and messages name a host)."""
    return origin.split("://", 1)[1]


@lru_cache(maxsize=1)
def _psl():
    from publicsuffixlist import PublicSuffixList  # the list ships inside the wheel: no download

    return PublicSuffixList()


def registrable_domain(host: str) -> str:
    """The site a host belongs to: its registrable domain (eTLD+1), or the host itself for an IP
    address, a bare public suffix or a single label (``localhost``)."""
    host = host.lower().strip("[]").rstrip(".")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    return _psl().privatesuffix(host) or host


def site_of(origin: str) -> tuple[str, str, str]:
    """(scheme, registrable domain, port) of an origin: what "the same site" compares."""
    scheme, rest = origin.split("://", 1)
    host, _, port = rest.rpartition(":")
    return scheme, registrable_domain(host), port


def same_site(url: str, origins: Iterable[str]) -> bool:
    """Whether ``url`` is on one of ``origins`` or a sibling host of one of their sites."""
    o = try_origin(url)
    if o is None:
        return False
    site = site_of(o)
    return any(o == other or site == site_of(other) for other in origins)


def document_refusal(url: str, listing_origins: Iterable[str], extra_hosts: Iterable[str] = ()) -> str | None:
    """Why a document (attachment, article) at ``url`` may not be fetched for an agency whose
    listings are on ``listing_origins``; None when it may. ``extra_hosts`` (the registry's
    ``attachment_hosts`` hint: ``host`` or ``host:port``) are allowed explicitly."""
    o = try_origin(url)
    if o is None:
        return f"not an http(s) URL: {url}"
    listing = list(listing_origins)
    if same_site(url, listing):
        return None
    hp = host_port(o)
    host = hp.rpartition(":")[0]
    if any(h.lower() in (hp, host) for h in extra_hosts):
        return None
    return (f"host not allowed: {hp} is not on the site of {', '.join(sorted(host_port(x) for x in listing))} "
            "(the agency's attachment_hosts hint can allow it)")
