"""HTTP: the app factory, the JSON API, webhooks and (later) the UI. Routes are thin."""
