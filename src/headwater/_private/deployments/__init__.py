"""Deployments on the runtime side: finding, loading and running a deployment's flow.

``code.py`` finds a version's code (a local folder or a git checkout) and
imports its entrypoint; ``discovery.py`` checks an entrypoint statically
(griffe, nothing executed); ``execute.py`` runs a stored flow run as itself
(``python -m headwater.engine``); ``runner_deployment.py`` describes a
deployment before it is registered; ``serve.py`` is the process that
registers, schedules and runs its deployments; ``run.py`` is
``run_deployment``.
"""
