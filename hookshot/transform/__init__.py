"""Transformations for generic webhooks: hookshot-compatible JavaScript functions,
declarative templates and built-in formats, all producing a `TransformResult`."""

from hookshot.transform.formats import FORMATS, render_format
from hookshot.transform.js import compile_check, run_transformation
from hookshot.transform.result import (
    TRANSFORM_FAILED_TEXT,
    Mentions,
    TransformError,
    TransformResult,
    WebhookResponse,
)
from hookshot.transform.template import Template, TemplateError, compile_template

__all__ = [
    "FORMATS",
    "TRANSFORM_FAILED_TEXT",
    "Mentions",
    "Template",
    "TemplateError",
    "TransformError",
    "TransformResult",
    "WebhookResponse",
    "compile_check",
    "compile_template",
    "render_format",
    "run_transformation",
]
