"""GitLab pipeline and job notices (ours; hookshot has no job notices and its main-branch
pipeline notice keeps per-process state).

One stateless line per status change, in the style of hookshot's GitHub workflow notices:

    Pipeline [#31](…/-/pipelines/31) ✅ passed for group/project on branch [`main`](…) in 1m 3s
    (triggered by **root**)

Failed pipelines list their failed jobs; failed jobs give GitLab's failure reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from hookshot.core.markdown import render_markdown_inline
from hookshot.services.gitlab.format import (
    Content,
    notice,
    obj,
    project_ref,
    regex_allows,
    text,
)

# Statuses after which a pipeline or job changes no more: what a bare `pipeline`/`job` hook means.
FINISHED_STATUSES: Final = ("success", "failed", "canceled")
# Every status GitLab reports for pipelines and jobs, with our emoji and wording.
STATUS_TEXT: Final[Mapping[str, tuple[str, str]]] = {
    "created": ("🆕", "was created"),
    "waiting_for_resource": ("⏳", "is waiting for a resource"),
    "preparing": ("⏳", "is preparing"),
    "pending": ("⏳", "is pending"),
    "running": ("🏃", "is running"),
    "success": ("✅", "passed"),
    "failed": ("❌", "failed"),
    "canceling": ("🚫", "is being canceled"),
    "canceled": ("🚫", "was canceled"),
    "skipped": ("⏭️", "was skipped"),
    "manual": ("✋", "is waiting for a manual action"),
    "scheduled": ("🕒", "is scheduled"),
}
# Failed jobs named in a failed pipeline's notice before "and N more".
MAX_FAILED_JOBS: Final = 5


def render_pipeline(payload: Mapping[str, Any], *, refs_regex: str | None = None) -> Content | None:
    """Notice for a pipeline status; `refs_regex` is searched in the branch or tag name."""
    attrs = obj(payload.get("object_attributes"))
    status = (text(attrs.get("status")) or "").lower()
    pipeline_id = text(attrs.get("id"))
    ref = text(attrs.get("ref"))
    project = project_ref(payload)
    if not status or pipeline_id is None or ref is None or project is None:
        return None
    if not regex_allows(refs_regex, ref):
        return None
    web = project.web_url
    url = text(attrs.get("url")) or f"{web}/-/pipelines/{pipeline_id}"
    name = text(attrs.get("name"))
    label = f"Pipeline **{name}**" if name else "Pipeline"
    body = (
        f"{label} [#{pipeline_id}]({url}) {_status(status)} for {project.path}"
        f" {_where(payload, ref, attrs.get('tag') is True, web)}"
    )
    if status in FINISHED_STATUSES:
        body += _took(attrs.get("duration"))
    user = text(obj(payload.get("user")).get("username"))
    if user:
        body += f" (triggered by **{user}**)"
    if status == "failed":
        body += _failed_jobs(payload, web)
    return notice(body, render_markdown_inline(body))


def render_job(payload: Mapping[str, Any], *, refs_regex: str | None = None) -> Content | None:
    """Notice for a job (`Job Hook`, object_kind `build`) status."""
    status = (text(payload.get("build_status")) or "").lower()
    job_id = text(payload.get("build_id"))
    name = text(payload.get("build_name"))
    ref = text(payload.get("ref"))
    project = project_ref(payload)
    if not status or job_id is None or name is None or ref is None or project is None:
        return None
    if not regex_allows(refs_regex, ref):
        return None
    web = project.web_url
    allowed = status == "failed" and payload.get("build_allow_failure") is True
    state = "⚠️ failed (allowed to fail)" if allowed else _status(status)
    body = f"Job [`{name}`]({web}/-/jobs/{job_id})"
    pipeline_id = text(payload.get("pipeline_id"))
    if pipeline_id:
        body += f" of pipeline [#{pipeline_id}]({web}/-/pipelines/{pipeline_id})"
    body += f" {state} for {project.path} {_where(payload, ref, payload.get('tag') is True, web)}"
    if status in FINISHED_STATUSES:
        body += _took(payload.get("build_duration"))
    reason = text(payload.get("build_failure_reason"))
    if status == "failed" and reason:
        body += f" ({reason.replace('_', ' ')})"
    return notice(body, render_markdown_inline(body))


def format_duration(seconds: float) -> str:
    """Whole seconds as `1h 2m 3s`, `1m 3s` or `45s`."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h"] if hours else []
    if minutes:
        parts.append(f"{minutes}m")
    if secs or not parts:
        parts.append(f"{secs}s")
    return " ".join(parts)


def _status(status: str) -> str:
    emoji, verb = STATUS_TEXT.get(status, ("ℹ️", f"is {status.replace('_', ' ')}"))
    return f"{emoji} {verb}"


def _where(payload: Mapping[str, Any], ref: str, is_tag: bool, web: str) -> str:
    mr = obj(payload.get("merge_request"))
    mr_iid, mr_url = text(mr.get("iid")), text(mr.get("url"))
    project = project_ref(payload)
    if mr_iid and mr_url and project:
        return f"on MR [{project.path}!{mr_iid}]({mr_url})"
    if is_tag:
        return f"on tag [`{ref}`]({web}/-/tags/{ref})"
    return f"on branch [`{ref}`]({web}/-/tree/{ref})"


def _took(seconds: object) -> str:
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0:
        return f" in {format_duration(seconds)}"
    return ""


def _failed_jobs(payload: Mapping[str, Any], web: str) -> str:
    builds = payload.get("builds")
    failed = [
        f"[`{name}`]({web}/-/jobs/{job_id})"
        for build in (builds if isinstance(builds, list) else [])
        if (b := obj(build)).get("status") == "failed" and b.get("allow_failure") is not True
        if (name := text(b.get("name"))) is not None and (job_id := text(b.get("id"))) is not None
    ]
    if not failed:
        return ""
    shown = ", ".join(failed[:MAX_FAILED_JOBS])
    more = len(failed) - MAX_FAILED_JOBS
    return f". Failed jobs: {shown}" + (f", and {more} more" if more > 0 else "")
