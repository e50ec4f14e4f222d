"""Redis and outbound HTTP behind small classes with injected clients."""
