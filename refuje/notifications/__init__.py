"""Notifications: in-app inbox, channel routing by preference, reminders and digests."""
