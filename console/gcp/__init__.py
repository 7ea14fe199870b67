"""Google Cloud sources: credentials, clients, Cloud Monitoring, Cloud Logging and Cloud Run state.

The Google libraries are slow to import, so nothing here imports them at module level:
``google.auth`` is imported when a ``[gcp]`` workspace resolves its credentials, the generated
clients when the sources build them, on their worker threads.
Every RPC has an explicit timeout and bounded retries; failures become ``SourceStatus`` data.
See docs/google-cloud.md.
"""
