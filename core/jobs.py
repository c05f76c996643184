from django.utils.translation import gettext_lazy as _

from core.scheduling import scheduled_job
from core.services import job_runs_prune as job_runs_prune_service


@scheduled_job(name="job_runs_prune", description=_("Delete job-run records past retention"))
def job_runs_prune() -> dict[str, int]:
    return {"deleted": job_runs_prune_service()}
