"""Status updates: templates, per-target rendering, the outbox and its delivery worker.

Importing this package (or `templates`, `render`, `outbox`, `publish`) never imports httpx;
only `worker` does, so `cockpit update` and the app's first paint stay fast.
"""
