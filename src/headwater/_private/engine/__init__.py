"""The run engine: one sans-I/O state machine per kind of run, and two thin drivers.

``task_machine`` and ``flow_machine`` are generators that decide every step of
a run and yield the steps that need the outside world (call the function,
wait for futures, sleep, run hooks). ``drivers`` carries those steps out,
once for threads (``drive_sync``) and once for event loops (``drive_async``).
``jobs`` ties a machine, a driver and a future together.
"""
