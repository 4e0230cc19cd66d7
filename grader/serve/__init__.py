"""``grade serve``: the self-check service a TA runs on a Linux machine, and its thin client.

Students on Windows and macOS cannot grade locally (the engine forks and the sandbox is Linux's),
so they upload to a server that grades exactly as ``grade FILE`` does there:

- ``app``: the ASGI application (Starlette on uvicorn): the upload page, ``POST /api/grade``,
  ``GET /report/{id}``, the health endpoint; needs the ``[serve]`` extra.
- ``workers``: the bounded queue and the pool of grading processes.
- ``store``: the results in an embedded SQLite database (a restart keeps them; an identical
  resubmission is answered from it).
- ``client``: ``grade FILE --server URL``, standard library only (it runs on a student's laptop).

Nothing is imported here: the client must stay importable without the server's dependencies.
"""
