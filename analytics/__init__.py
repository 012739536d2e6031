"""PostHog's wire protocol, independent of the fleet (imports no personas/flows/bots/demo).

- `analytics.decoder.decode(...)`: pure decoder of capture requests (also for requests seen in the browser).
- `analytics.capture.capture_routes(...)` / `create_capture_app(...)`: the capture endpoint (Starlette).
- `analytics.store.EventStore`: its SQLite store, deduplicated by uuid; session recordings (`/s/`,
  `analytics.recordings`) in their own table.
- `analytics.flags`: feature flags and experiments from TOML, bucketed with PostHog's hash.
- `analytics.sdk.ensure_posthog_js()`: the real posthog-js (pinned to HogFlix's 1.347.2) in the npm cache;
  its `dist/*.js` are the extensions served at `/static/<name>.js`.
- `analytics.query.PostHogQueryClient` / `DemoQueryClient`: read back what was ingested.
- `analytics.testing.serve_in_thread(app)`: a real uvicorn server on a free loopback port, for tests.
- `python -m analytics serve`: the endpoint alone; `python -m analytics sdk ensure`: install posthog-js.
"""
