"""The widget API (`/widgetapi`): what hookshot's configuration widget talks to.

    widget ─► POST /widgetapi/v1/exchange_openid {matrixServer, openIdToken}
           ◄─ {token, userId}           (openid.py checks the token with the user's homeserver)
    widget ─► GET/POST/PUT/PATCH/DELETE /widgetapi/v1/... with `Authorization: Bearer <token>`
           ─► routes.py: session, membership and power-level checks ─► WidgetBackend
              (the bridge: Provisioner, ConnectionStore) ─► state event ─► store.apply (echo)

Modules: `settings` (the `widgets` config section), `openid` (token verification with SSRF
guards), `sessions` (session tokens), `details` (connection ids and hookshot's response items),
`errors` (hookshot's error codes), `routes` (the HTTP routes and the `WidgetBackend` seam).
"""
