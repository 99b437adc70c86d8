"""JavaScript transformation functions, run the way hookshot 7.x runs them.

hookshot evaluates `const data = <body>; (() => { <script> })();` in a fresh QuickJS context
with `HookshotApiVersion = "v2"` set, stops it after 500 ms, then reads the global `result`
(`src/generic/WebhookTransformer.ts`). We use QuickJS too (quickjs-ng, through the
`quickjs-ng` package), one runtime per request, so scripts see the same language, the same
globals (no `require`, `fetch`, `process`, timers or module loader) and no state from earlier
requests. Differences, all in the script's favour:

- a value `return`ed at the top level is used when `result` is left undefined;
- a trailing `// comment` does not swallow the wrapper (we add a newline before it);
- `data` is built with `JSON.parse`, so a `"__proto__"` key stays an ordinary key;
- memory is capped (hookshot has no cap) and a runaway loop, regex or allocation ends with a
  precise error;
- `mentions.user_ids` keeps only strings and `webhookResponse.statusCode` must be an HTTP
  status (hookshot passes both through unchecked); lone surrogates in the result's strings
  become U+FFFD, as they cannot be sent as UTF-8.

The time limit is CPU time of this process (QuickJS's interrupt handler reads `clock()`), not
wall time: a script never gets more than `timeout_ms` of CPU, and under heavy load in other
threads it may be stopped sooner. Run it off the event loop (`asyncio.to_thread`): the engine
releases the GIL while JavaScript runs, so a slow script does not stall the bridge.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Final, Protocol, cast

# The C extension itself: the `quickjs` wrapper package starts a thread when imported.
import _quickjs  # type: ignore[import-not-found]

from hookshot.core.threads import check_key
from hookshot.services.generic.format import js_stringify
from hookshot.services.generic.transform.result import (
    Mentions,
    TransformError,
    TransformResult,
    WebhookResponse,
    well_formed,
)

API_VERSION: Final = "v2"
DEFAULT_TIMEOUT_MS: Final = 500  # hookshot's TRANSFORMATION_TIMEOUT_MS
DEFAULT_MEMORY_MB: Final = 64
# QuickJS's own default; our worker threads have glibc's 8 MiB native stack beneath it.
MAX_STACK_BYTES: Final = 1024 * 1024
COMPILE_ERROR_PREFIX: Final = "Could not compile transformation function:"
RUN_ERROR_PREFIX: Final = "Transformation failed to run:"
# Longest JavaScript error text we keep; a script may throw a string of any size.
MAX_ERROR_CHARS: Final = 500

_INPUT_GLOBAL: Final = "__hookshotInput"
# Line 1 of the evaluated code is ours, so the script's line N is the input's line N + 1.
_OPEN: Final = "(() => {\n"
_PRELUDE: Final = (
    f"const data = JSON.parse(globalThis.{_INPUT_GLOBAL}); delete globalThis.{_INPUT_GLOBAL};"
    f' globalThis.HookshotApiVersion = "{API_VERSION}"; const __hookshotDump = JSON.stringify;'
    f" const __hookshotReturned = {_OPEN}"
)
# Hands back [typeof value, value] as JSON: the engine truncates strings at NUL when it
# converts them, JSON escapes them. Only strings and objects are needed by the contract.
_EPILOGUE: Final = (
    "\n})();\n(() => { const v = globalThis.result !== undefined ? globalThis.result"
    " : __hookshotReturned; const t = typeof v;"
    ' return __hookshotDump([t, t === "object" || t === "string" ? v : null]); })()'
)
_LOCATION = re.compile(r"<input>:(\d+):(\d+)")


class _Context(Protocol):
    """The parts of `_quickjs.Context` we use (the extension ships no type hints)."""

    def eval(self, code: str) -> object: ...
    def set(self, name: str, value: object) -> None: ...
    def set_memory_limit(self, limit: int) -> None: ...
    def set_time_limit(self, limit: float) -> None: ...
    def set_max_stack_size(self, limit: int) -> None: ...


@dataclass(frozen=True, slots=True)
class _Limits:
    timeout_ms: int
    memory_mb: int


def run_transformation(
    source: str,
    data: object,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> TransformResult:
    """Run hookshot transformation `source` over `data` (the decoded webhook body).

    Blocks for up to `timeout_ms` of CPU time; call it from a worker thread. Raises
    `TransformError` when the script fails or returns an invalid result (the caller then
    posts `TRANSFORM_FAILED_TEXT`), `TypeError` when `data` is not a JSON value.
    """
    limits = _check_limits(timeout_ms, memory_mb)
    # JavaScript's own JSON text: floats intact, non-finite numbers null, lone surrogates
    # escaped, big integers rounded by JSON.parse exactly as hookshot's would be.
    payload = js_stringify(data)
    context = _new_context(limits)
    try:
        context.set(_INPUT_GLOBAL, payload)
    except TypeError as exc:
        # The only way setting a string global fails is running out of the memory cap.
        raise TransformError(_out_of_memory(limits, ": the webhook body does not fit")) from exc
    code = _PRELUDE + source + _EPILOGUE
    try:
        dumped = context.eval(code)
    except _quickjs.JSException as exc:
        raise TransformError(_describe_failure(str(exc), source, limits)) from exc
    except (ValueError, UnicodeEncodeError) as exc:
        raise TransformError(f"{RUN_ERROR_PREFIX} {_unusable_source(exc)}") from exc
    finally:
        del context
    if not isinstance(dumped, str):
        raise TransformError(f"{RUN_ERROR_PREFIX} the script replaced JSON.stringify")
    kind, value = _load_dump(dumped)
    return _interpret(kind, value)


def compile_check(source: str, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> str | None:
    """`None` if `source` parses as a transformation function, else hookshot's
    "Could not compile transformation function: …" text with the error and its location."""
    limits = _check_limits(timeout_ms, DEFAULT_MEMORY_MB)
    context = _new_context(limits)
    try:
        # Defined, never called: the same parse the run wrapper does, including `return`.
        context.eval(_OPEN + source + "\n});")
    except _quickjs.JSException as exc:
        return f"{COMPILE_ERROR_PREFIX} {_describe_error(str(exc), source)}"
    except (ValueError, UnicodeEncodeError) as exc:
        return f"{COMPILE_ERROR_PREFIX} {_unusable_source(exc)}"
    finally:
        del context
    return None


def _check_limits(timeout_ms: int, memory_mb: int) -> _Limits:
    if timeout_ms <= 0:
        raise ValueError("timeout_ms must be positive")
    if memory_mb <= 0:
        raise ValueError("memory_mb must be positive")
    return _Limits(timeout_ms, memory_mb)


def _new_context(limits: _Limits) -> _Context:
    # A new runtime per call: nothing a script does (globals, prototypes) outlives it.
    context = cast(_Context, _quickjs.Context())
    context.set_memory_limit(limits.memory_mb * 1024 * 1024)
    context.set_time_limit(limits.timeout_ms / 1000)
    context.set_max_stack_size(MAX_STACK_BYTES)
    return context


def _load_dump(dumped: str) -> tuple[str, object]:
    try:
        loaded = json.loads(dumped)
    except ValueError as exc:
        raise TransformError(f"{RUN_ERROR_PREFIX} the script replaced JSON.stringify") from exc
    if not (isinstance(loaded, list) and len(loaded) == 2 and isinstance(loaded[0], str)):
        raise TransformError(f"{RUN_ERROR_PREFIX} the script replaced JSON.stringify")
    return loaded[0], loaded[1]


def _interpret(kind: str, value: object) -> TransformResult:
    # hookshot's checks, in hookshot's order, with hookshot's messages.
    if kind == "string" and isinstance(value, str):
        return TransformResult(plain=f"Received webhook: {well_formed(value)}")
    if kind != "object":
        return TransformResult(plain="No content")
    if not isinstance(value, dict) or value.get("version") != API_VERSION:
        raise TransformError("Result returned from transformation didn't specify version = v2")
    response = _webhook_response(value.get("webhookResponse"))
    if _truthy(value.get("empty")):
        return TransformResult(webhook_response=response)
    plain = value.get("plain")
    if not isinstance(plain, str):
        raise TransformError(
            "Result returned from transformation didn't provide a string value for plain"
        )
    html = _optional_string(value, "html")
    msgtype = _optional_string(value, "msgtype")
    return TransformResult(
        plain=well_formed(plain),
        # hookshot sends `html || markdown(plain)` and `msgtype || "m.notice"`.
        html=html or None,
        msgtype=msgtype or None,
        mentions=_mentions(value.get("mentions")),
        url_previews=_url_previews(value.get("hints")),
        webhook_response=response,
        thread_key=_thread_key(value.get("threadKey")),
        thread_edit_root=_truthy(value.get("threadEditRoot")),
    )


def _thread_key(value: object) -> str | None:
    try:
        return check_key(value)
    except ValueError as err:
        raise TransformError(f"Result returned from transformation: {err}") from None


def _optional_string(result: dict[str, object], key: str) -> str | None:
    if key not in result:
        return None
    value = result[key]
    if not isinstance(value, str):
        raise TransformError(
            f"Result returned from transformation didn't provide a string value for {key}"
        )
    return well_formed(value)


def _webhook_response(value: object) -> WebhookResponse | None:
    if not _truthy(value):
        return None
    fields = value if isinstance(value, dict) else {}
    body = fields.get("body")
    if not isinstance(body, str):
        raise TransformError(
            "Result returned from transformation didn't provide a string value for "
            "webhookResponse.body"
        )
    status = fields.get("statusCode")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
    ):
        raise TransformError(
            "Result returned from transformation didn't provide a number value for "
            "webhookResponse.statusCode"
        )
    content_type = fields.get("contentType")
    if "contentType" in fields and not isinstance(content_type, str):
        # hookshot's wording, "for msgtype" included.
        raise TransformError(
            "Result returned from transformation didn't provide a contentType value for msgtype"
        )
    return WebhookResponse(
        body=well_formed(body),
        content_type=well_formed(content_type) if isinstance(content_type, str) else None,
        status_code=status,
    )


def _mentions(value: object) -> Mentions | None:
    if not _truthy(value):
        return None
    # hookshot copies only `room` and `user_ids`; a truthy non-object gives `{}`.
    fields = value if isinstance(value, dict) else {}
    room = fields.get("room")
    if "room" in fields and not isinstance(room, bool):
        raise TransformError(
            "Result returned from transformation provided an invalid mentions.room"
        )
    user_ids = fields.get("user_ids")
    if "user_ids" in fields and not isinstance(user_ids, list):
        raise TransformError(
            "Result returned from transformation provided an invalid mentions.user_ids"
        )
    return Mentions(
        user_ids=(
            tuple(well_formed(u) for u in user_ids if isinstance(u, str))
            if isinstance(user_ids, list)
            else None
        ),
        room=room if isinstance(room, bool) else None,
    )


def _url_previews(value: object) -> bool | None:
    if not isinstance(value, dict) or "showUrlPreviews" not in value:
        return None
    show = value["showUrlPreviews"]
    if not isinstance(show, bool):
        raise TransformError(
            "Result returned from transformation provided an invalid hints.showUrlPreviews"
        )
    return show


def _truthy(value: object) -> bool:
    # JavaScript truthiness of a JSON value: containers are truthy even when empty.
    if value is None or value is False:
        return False
    if isinstance(value, int | float | str):
        return bool(value)
    return True


def _describe_failure(text: str, source: str, limits: _Limits) -> str:
    message = _first_line(text)
    if message.startswith("InternalError: interrupted"):
        return f"Transformation timed out after {limits.timeout_ms} ms"
    if message.startswith("InternalError: out of memory"):
        return _out_of_memory(limits, "")
    if message == "null":
        # QuickJS throws null when it cannot even allocate the out-of-memory error.
        return _out_of_memory(limits, ", or the script threw null")
    return f"{RUN_ERROR_PREFIX} {_describe_error(text, source)}"


def _out_of_memory(limits: _Limits, detail: str) -> str:
    return f"Transformation ran out of memory (limit {limits.memory_mb} MiB){detail}"


def _describe_error(text: str, source: str) -> str:
    """`Name: message (line L, column C)` from QuickJS's "message\\n    at …" text."""
    message = _first_line(text)
    last_line = source.count("\n") + 1
    for match in _LOCATION.finditer(text):
        # Map the evaluated code's lines back to the script's; skip frames in our wrapper.
        line = int(match.group(1)) - 1
        if 1 <= line <= last_line:
            return f"{message} (line {line}, column {match.group(2)})"
    return message


def _first_line(text: str) -> str:
    lines = text.split("\n")
    # The message may itself span lines; the stack starts at the first "    at " line.
    head: list[str] = []
    for line in lines:
        if line.startswith("    at "):
            break
        head.append(line)
    if len(head) == len(lines) and len(head) > 1 and head[-1] == "undefined":
        # A thrown non-Error has no stack; QuickJS prints it as "undefined".
        head.pop()
    message = "\n".join(head).strip() or "unknown error"
    if len(message) > MAX_ERROR_CHARS:
        message = message[:MAX_ERROR_CHARS] + "…"
    return message


def _unusable_source(exc: ValueError | UnicodeEncodeError) -> str:
    if isinstance(exc, UnicodeEncodeError):
        return "the script contains invalid Unicode (a lone surrogate)"
    return "the script contains a NUL character"
