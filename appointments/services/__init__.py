"""Writes of the schedule, by sub-concept: holding time (``holds``), booking and rescheduling
(``booking``), the status machine (``lifecycle``) and time off (``blockers``)."""

from appointments.services.blockers import blocker_create, blocker_delete, blocker_update
from appointments.services.booking import (
    appointment_book,
    appointment_book_as_user,
    appointment_reschedule,
)
from appointments.services.lifecycle import (
    OPEN_STATUSES,
    TRANSITIONS,
    appointment_transition,
    appointment_update,
    late_cancellation_fee,
)

__all__ = [
    "OPEN_STATUSES",
    "TRANSITIONS",
    "appointment_book",
    "appointment_book_as_user",
    "appointment_reschedule",
    "appointment_transition",
    "appointment_update",
    "blocker_create",
    "blocker_delete",
    "blocker_update",
    "late_cancellation_fee",
]
