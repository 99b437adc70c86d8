// The `enableHooks` names a new connection may use, copied from the bridge:
// GitHub from hookshot/services/github/repo.py ALLOWED_HOOKS / DEFAULT_HOOKS, GitLab from
// hookshot/services/gitlab/repo.py ALLOWED_HOOKS / DEFAULT_HOOKS (tests/widget/test_widget_browser.py
// checks that they still match). Grouped for the event checkboxes.

export interface HookGroup {
  label: string;
  hooks: readonly string[];
}

export const GITHUB_HOOK_GROUPS: readonly HookGroup[] = [
  {
    label: "Issues",
    hooks: [
      "issue",
      "issue.changed",
      "issue.created",
      "issue.edited",
      "issue.labeled",
      "issue.comment",
      "issue.comment.created",
    ],
  },
  {
    label: "Pull requests",
    hooks: [
      "pull_request",
      "pull_request.closed",
      "pull_request.merged",
      "pull_request.opened",
      "pull_request.ready_for_review",
      "pull_request.reviewed",
    ],
  },
  { label: "Pushes", hooks: ["push"] },
  { label: "Releases", hooks: ["release", "release.created", "release.drafted"] },
  {
    label: "Workflow runs",
    hooks: [
      "workflow",
      "workflow.run",
      "workflow.run.success",
      "workflow.run.failure",
      "workflow.run.neutral",
      "workflow.run.cancelled",
      "workflow.run.timed_out",
      "workflow.run.action_required",
      "workflow.run.stale",
    ],
  },
];

export const GITHUB_DEFAULT_HOOKS: readonly string[] = [
  "issue.changed",
  "issue.created",
  "issue.edited",
  "issue.labeled",
  "issue",
  "pull_request.closed",
  "pull_request.merged",
  "pull_request.opened",
  "pull_request.ready_for_review",
  "pull_request.reviewed",
  "pull_request",
  "release.created",
];

export const GITLAB_HOOK_GROUPS: readonly HookGroup[] = [
  {
    label: "Merge requests",
    hooks: [
      "merge_request",
      "merge_request.open",
      "merge_request.reopen",
      "merge_request.close",
      "merge_request.merge",
      "merge_request.review",
      "merge_request.review.individual",
      "merge_request.ready_for_review",
      "merge_request.review.comments",
    ],
  },
  { label: "Pushes", hooks: ["push", "tag_push"] },
  { label: "Releases", hooks: ["release", "release.created"] },
  { label: "Wiki", hooks: ["wiki", "wiki.create", "wiki.update", "wiki.delete"] },
  {
    label: "Pipelines",
    hooks: [
      "pipeline",
      "pipeline.created",
      "pipeline.waiting_for_resource",
      "pipeline.preparing",
      "pipeline.pending",
      "pipeline.running",
      "pipeline.success",
      "pipeline.failed",
      "pipeline.canceling",
      "pipeline.canceled",
      "pipeline.skipped",
      "pipeline.manual",
      "pipeline.scheduled",
    ],
  },
  {
    label: "Jobs",
    hooks: [
      "job",
      "job.created",
      "job.waiting_for_resource",
      "job.preparing",
      "job.pending",
      "job.running",
      "job.success",
      "job.failed",
      "job.canceling",
      "job.canceled",
      "job.skipped",
      "job.manual",
      "job.scheduled",
    ],
  },
  {
    label: "Issues",
    hooks: ["issue", "issue.open", "issue.close", "issue.reopen", "issue.update"],
  },
];

export const GITLAB_DEFAULT_HOOKS: readonly string[] = [
  "merge_request.open",
  "merge_request.reopen",
  "merge_request.close",
  "merge_request.merge",
  "merge_request.review",
  "merge_request.review.individual",
  "merge_request.ready_for_review",
  "merge_request.review.comments",
  "merge_request",
  "tag_push",
  "push",
  "wiki",
  "release",
  "release.created",
  "pipeline",
];
