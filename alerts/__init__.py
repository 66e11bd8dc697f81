"""newswatch's alerts: which stored articles alert, the outbox, delivery, and the Beam step.

The modules, each one concern:

- ``rules``: ``AlertRule``, ``AlertSettings``, the ``[alerts]`` config table,
  matching an article and the alert payload.
- ``outbox``: enqueue once per story (or incident), deliver due alerts with
  retries and backoff, listing and manual retry. Its SQL is the storage
  room's (``newswatch.sinks.outbox_store``).
- ``channels``: webhook, Slack, file and console delivery, request signing.
- ``step``: the Beam stages ``RaiseAlerts`` and ``DeliverDueAlerts``.

Import from the module that owns a name (``from newswatch.alerts.rules import
AlertSettings``); this package imports nothing.
"""
