"""Masquerading: the session flow (admin, django-hijack), the token flow (API), and the audit
line each step must write first. The decision itself lives in ``access.masquerade.rules``."""
