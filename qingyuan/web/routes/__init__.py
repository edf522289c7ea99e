"""Routes per area; `web.app` assembles them."""
