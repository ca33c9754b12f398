"""Background jobs: the enqueue client the API uses, and the worker that runs them.

`python -m <package>.workers` starts a worker process, configured from Settings
(BROKER_URL, WORKER_QUEUE, WORKER_CONCURRENCY, WORKER_SHUTDOWN_TIMEOUT, ...);
`python -m <package>.workers.heartbeat` is its liveness check.
"""

# The names jobs are enqueued under: the API and the worker share them.
PROCESS_ITEM = "process_item"
