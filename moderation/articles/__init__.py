"""Articles readers comment on, and their per-article moderation policy."""
