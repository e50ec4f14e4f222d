"""Scheduled cleanup jobs (Celery beat): nothing stuck, nothing kept longer than it should be.

Each job is a service function in this package taking ``sessions`` (it commits per batch),
the job's clock ``now``, ``dry_run`` and the settings; :mod:`moderation.jobs.registry` lists
them with their schedules and :func:`moderation.jobs.runner.run_job` runs one under a lock
and records a :class:`~moderation.jobs.models.JobRun`. ``workers/tasks_jobs.py`` wraps it
for beat, ``moderation jobs`` for operators. See the README, "Scheduled jobs".
"""
