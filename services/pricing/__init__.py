"""What a price can be besides a rate: holiday calendars (this round), later bundles."""
