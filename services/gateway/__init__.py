"""The api-gateway: the only public entry (auth, routing, /schema, storefront, presigned uploads)."""
