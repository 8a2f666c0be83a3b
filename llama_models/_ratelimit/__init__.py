"""Client-side rate limiting: budgets, the shared backoff after a 429, and their stores."""
