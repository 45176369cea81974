"""The hub's work between the API and the store: publishing, signing, records."""
