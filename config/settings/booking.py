"""Public booking pages (README: "Public booking pages"): guest booking without an account,
slot holds during checkout and the signed manage links guests get."""

import environ

env = environ.Env()

# How long a slot hold blocks a slot for everyone else while a visitor fills in the form.
SLOT_HOLD_MINUTES = env.int("SLOT_HOLD_MINUTES", default=5)
# Requests per client address (core.audit.client_ip) to the public endpoints: reads (catalogue,
# availability) and writes (holds, bookings, manage links), each its own budget.
PUBLIC_READ_THROTTLE_RATE = env.str("PUBLIC_READ_THROTTLE_RATE", default="120/min")
PUBLIC_WRITE_THROTTLE_RATE = env.str("PUBLIC_WRITE_THROTTLE_RATE", default="20/min")
# The manage links given to guests: a page of the business's booking site that reads the token
# from the fragment (never sent to any server, so never logged) and posts it to the API.
# {base} is TENANT_LINK_BASE for the business's primary host.
PUBLIC_MANAGE_LINK = env.str(
    "PUBLIC_MANAGE_LINK", default="{base}/booking/manage/{purpose}#token={token}"
)
