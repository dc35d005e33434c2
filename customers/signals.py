"""What customers tells the apps above it. Receivers run in the sender's transaction."""

from django.dispatch import Signal

# A customer was created (by the business, or by a first booking): ``tenant``, ``customer``.
customer_created = Signal()
