"""Moderator accounts: passwords (Argon2id), API tokens and page sessions (stored hashed),
login throttling, and the FastAPI dependencies that authenticate a request."""
