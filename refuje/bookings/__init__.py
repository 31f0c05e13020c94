"""Bookings: staff schedules, availability, bookings without double booking, cancellation."""
