"""The field app's side of the sync protocol (../shared/PROTOCOL.md), without Qt.

`sync.protocol` wire shapes (shared with the portal), `sync.client.PortalClient` (HTTP,
retries, TLS), `sync.engine.SyncEngine` (pull → upload → push → pull over a
`fieldapp.FieldStore`), `sync.session` (sign-in and the kept token) and `sync.errors`.
"""
