"""Background work of the audit app."""

from django_tasks import task


@task()
def render_trail_report(report_id: int) -> str:
    from audit.reports import trail_report_render

    return trail_report_render(report_id)
