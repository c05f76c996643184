from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.scheduling import JOBS, job_run
from core.selectors import job_last_runs


class Command(BaseCommand):
    help = _("Run a scheduled job now, synchronously, and print its summary.")

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help=_("job name (see --list)"))
        parser.add_argument("--list", action="store_true", help=_("list the scheduled jobs"))

    def handle(self, *args, name=None, list=False, **options):
        if list:
            from config.schedules import SCHEDULES

            last = job_last_runs()
            for job_name in sorted(JOBS):
                spec = SCHEDULES.get(job_name)
                when = (" ".join(spec.get(k, "*") for k in ("minute", "hour", "day_of_month",
                                                            "month_of_year", "day_of_week"))
                        if spec else "-")
                run = last.get(job_name)
                last_text = f"{run.get_status_display()} {run.started_at:%Y-%m-%d %H:%M}" if run \
                    else "-"
                self.stdout.write(f"{job_name:<28} {when:<18} {last_text:<24} "
                                  f"{JOBS[job_name].description}")
            return
        if not name:
            raise CommandError(_("Name a job, or use --list."))
        if name not in JOBS:
            raise CommandError(_("Unknown job %(name)s. Known: %(known)s")
                               % {"name": name, "known": ", ".join(sorted(JOBS))})
        try:
            run = job_run(name=name)
        except Exception as exc:
            raise CommandError(_("Job %(name)s failed: %(error)s")
                               % {"name": name, "error": exc}) from exc
        counts = ", ".join(f"{k}={v}" for k, v in run.counts.items()) or "-"
        self.stdout.write(self.style.SUCCESS(
            f"{name}: {run.get_status_display()} in {run.duration_seconds}s ({counts})"))
