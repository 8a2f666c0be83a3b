"""Tests of client-side rate limiting: the stores, local and Redis."""
