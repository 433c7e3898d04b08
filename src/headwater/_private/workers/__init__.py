"""Workers: processes that poll a work pool, claim its runs and execute them.

``base.py`` is what every worker type shares (polling, claiming,
heartbeats, cancellation, reporting exits); ``process.py`` is the built-in
process worker; ``plugins.py`` finds worker types by name (entry points,
group ``headwater.workers``).
"""
