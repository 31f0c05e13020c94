"""Web push: VAPID keys, browser subscriptions and delivery."""
