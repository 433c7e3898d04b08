"""The run engine: sans-I/O state machines that decide, drivers that act.

``task_machine`` and ``flow_machine`` are generators that decide every step
of a run from a small description of it (``specs``) and yield the steps
(``steps``) that need the outside world: call the function, record a state,
log, wait, sleep, plan and look up results. ``drivers`` carries those steps
out, in a thread or on an event loop, with the one step loop pair of
``headwater._private.driving``. ``task_job`` and ``flow_job`` tie a run's
machine, driver, context and future together; ``task_dispatch`` gets
submitted task runs to a worker.
"""
