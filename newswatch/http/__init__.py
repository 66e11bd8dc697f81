"""newswatch's HTTP: one safe client for feeds, article pages, robots.txt and webhooks.

The modules, each one concern:

- ``client``: ``SafeHttpClient`` (GET/POST with retries, redirects, byte cap).
- ``request``: ``FetchLimits``, the ``Request`` that travels through a call's
  hops, the ``Response``.
- ``errors``: ``FetchError`` and its stable codes.
- ``guard``: the address policy and the urllib3 connections that enforce it.
- ``deadline``: one wall clock budget per call, and the watchdog that cuts a
  hop's sockets when it passes.
- ``decode``: Content-Encoding decoding under the byte cap; header parsing.
- ``politeness``: ``HostThrottle``, per-host limits shared across processes.
- ``robots``: ``RobotsPolicy``, robots.txt answers for article fetches.
- ``settings``: ``HttpSettings``, the picklable description every stage and
  command builds its client from.

Import from the module that owns a name (``from newswatch.http.client import
SafeHttpClient``); this package imports nothing.
"""
