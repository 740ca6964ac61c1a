"""What guards the app: ASGI middleware in front of it (a request body limit enforced while reading, safe response
headers) and its error handlers (every error one line of JSON)."""
import json

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

SAFE_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                (b"x-frame-options", b"DENY")]


async def send_json_error(send, status, message):
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *SAFE_HEADERS]})
    await send({"type": "http.response.body", "body": body})


class Guards:
    """Reads each request body into memory up to max_bytes (413 beyond it, as soon as it is known, without reading
    the rest), then hands the app the whole body; adds SAFE_HEADERS to every response."""

    def __init__(self, app, max_bytes):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_safely(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SAFE_HEADERS]}
            await send(message)

        too_large = f"request body over the limit of {self.max_bytes:,} bytes: send fewer or smaller images"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await send_json_error(send, 413 if declared.isdigit() else 400,
                                         too_large if declared.isdigit() else "malformed Content-Length header")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                return await send_json_error(send, 413, too_large)
            if not message.get("more_body", False):
                break
        body, delivered = b"".join(chunks), False

        async def replay():
            nonlocal delivered
            if delivered:
                return await receive()  # the app waits for a disconnect: pass the real one through
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send_safely)


def add_error_handlers(app, allowed):
    """Every error a JSON object {"error": one line} with its 4xx status; never a traceback. allowed: {query
    parameter: its values in words}, said whole when such a parameter is wrong."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, error):
        detail = error.detail if isinstance(error.detail, str) else str(error.detail)
        return JSONResponse({"error": detail}, error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request, error):
        problem = error.errors()[0]
        where = " ".join(str(part) for part in problem["loc"])
        name = problem["loc"][-1]
        if problem["loc"][0] == "query" and name in allowed:
            return JSONResponse({"error": f"{name} must be {allowed[name]}, got {problem['input']!r}"}, 422)
        return JSONResponse({"error": f"{where}: {problem['msg']}"}, 422)

    @app.exception_handler(Exception)
    async def unexpected(request, error):
        return JSONResponse({"error": f"internal error ({type(error).__name__}): see the server's log"}, 500)
