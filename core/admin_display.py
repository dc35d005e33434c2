"""The admin's coloured badges: one look for roles, statuses and domain verification."""

from django.utils.html import format_html

NEUTRAL = "#6b7280"


def badge(*, kind: str, value: str, label: str, colour: str | None) -> str:
    """``<span class="{kind}-badge {kind}-{value}">label</span>`` on a coloured pill."""
    return format_html(
        '<span class="{}-badge {}-{}" style="background:{};color:#fff;padding:2px 8px;'
        'border-radius:10px;font-size:11px;white-space:nowrap">{}</span>',
        kind,
        kind,
        value.lower(),
        colour or NEUTRAL,
        label,
    )
