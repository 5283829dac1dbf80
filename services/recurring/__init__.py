"""Services, subscriptions and recurring charges (spyne-free). See docs/recurring.md."""
