"""Transformations for generic webhooks: hookshot-compatible JavaScript functions,
declarative templates and built-in formats, all producing a `TransformResult`."""

from hookshot.services.generic.transform.formats import FORMATS, render_format
from hookshot.services.generic.transform.js import compile_check, run_transformation
from hookshot.services.generic.transform.result import (
    TRANSFORM_FAILED_TEXT,
    Mentions,
    TransformError,
    TransformResult,
    WebhookResponse,
)
from hookshot.services.generic.transform.template import Template, TemplateError, compile_template

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
