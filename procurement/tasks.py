"""Background work of the procurement app."""

import datetime

from django.utils import timezone
from django_tasks import default_task_backend, task

from procurement.tender_services import advance_deadlines

#: How often the deadline scheduler runs itself again on a database-backed worker.
DEADLINE_INTERVAL = datetime.timedelta(minutes=1)


@task()
def advance_deadlines_task() -> list[str]:
    """Close every tender whose submission deadline has passed, then schedule the next run.

    The next run is queued only on a backend that can defer work (the database workers); with the
    immediate backend of tests and the demo, run ``manage.py advance_deadlines`` from cron instead.
    """
    closed = advance_deadlines()
    if default_task_backend.supports_defer:
        advance_deadlines_task.using(run_after=timezone.now() + DEADLINE_INTERVAL).enqueue()
    return closed
