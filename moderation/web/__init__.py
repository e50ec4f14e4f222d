"""Server-rendered pages: the public article page and the moderators' review page."""
