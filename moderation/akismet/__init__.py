"""Akismet compatibility: the spam memory that submit-spam/submit-ham feed and comment-check reads."""
