"""Reviews and ratings of completed bookings and requests."""
