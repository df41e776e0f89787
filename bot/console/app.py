"""The hosts' console as an ASGI application (Starlette): pages, a live stream of each chat's
state (server-sent events), and a JSON API. It reads the store and writes host commands to
it; it never talks to a platform.

Every change needs a signed-in session and its CSRF token, or the console's secret as a
bearer token (the API). Every answer carries a strict Content-Security-Policy: the page
runs only the console's own script and loads nothing from anywhere else.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from importlib import resources
from typing import Any

from anyio import to_thread
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.console.access import (
    COOKIE,
    WRONG_SECRET_DELAY,
    Access,
    Session,
    clean_name,
    csrf_matches,
)
from bot.console.commands import BadCommand, parse_command
from bot.console.live import Broadcaster
from bot.console.openapi import OPENAPI
from bot.console.state import ConsoleChat, StateReader
from bot.core.agenda import Plan
from bot.ports.clock import Clock
from bot.ports.console import HostCommands

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
_STATIC = {"console.js": "text/javascript", "console.css": "text/css"}
_API_SIGN_IN = "sign in: a session cookie, or the header Authorization: Bearer <the console secret>"


class _SecurityHeaders:
    """Adds the headers to every answer (plain ASGI: the event stream is not buffered)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


def templates() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("bot.console", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )


def create_app(
    *,
    chats: Sequence[ConsoleChat],
    reader: StateReader,
    commands: HostCommands,
    access: Access,
    clock: Clock,
    log: Any,
    interval: float = 0.25,
) -> Starlette:
    by_id = {chat.config.chat.id: chat for chat in chats}
    env = templates()
    static = {
        name: resources.files("bot.console").joinpath("static").joinpath(name).read_bytes()
        for name in _STATIC
    }

    def plan_of(chat: ConsoleChat) -> Plan:
        return chat.plan(clock.now())

    def render_live(state: dict[str, Any]) -> str:
        return str(env.get_template("live.html.j2").render(s=state, csrf=""))

    def snapshot(chat_id: str) -> tuple[Any, Callable[[], tuple[dict[str, Any], str]]]:
        chat = by_id[chat_id]
        plan = plan_of(chat)

        def build() -> tuple[dict[str, Any], str]:
            state = reader.state(chat, plan, now=clock.now())
            return state, render_live(state)

        return (plan[0].id, reader.reads.fingerprint(plan[0].id)), build

    live = Broadcaster(snapshot, interval=interval)

    # -- who is asking ---------------------------------------------------------------------

    def client(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def session_of(request: Request) -> Session | None:
        return access.session(request.cookies.get(COOKIE))

    async def bearer(request: Request) -> tuple[str | None, Response | None]:
        """The API caller's name if its bearer token is right; an answer if it is wrong."""
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return None, None
        if access.blocked(client(request)):
            return None, JSONResponse({"error": "too many failed attempts: wait"}, 429)
        if not access.secret_matches(header[7:].strip()):
            await asyncio.sleep(WRONG_SECRET_DELAY)
            access.failed(client(request))
            log.warning("console.signin_refused", client=client(request), via="bearer")
            return None, JSONResponse({"error": "wrong token"}, 401)
        return clean_name(request.headers.get("x-host-name", "")) or "api", None

    def occurrence_chat(occurrence: str) -> ConsoleChat | None:
        chat = by_id.get(occurrence.rpartition("/")[0])
        if chat is None or plan_of(chat)[0].id != occurrence:
            return None
        return chat

    # -- pages -----------------------------------------------------------------------------

    def page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**values), status_code=status)

    async def index(request: Request) -> Response:
        session = session_of(request)
        if session is None:
            return RedirectResponse("/signin", 303)
        if len(by_id) == 1:
            return RedirectResponse(f"/chat/{next(iter(by_id))}", 303)
        listed = [(cid, c.config.chat.title, c.config.chat.hashtag) for cid, c in by_id.items()]
        return page("index.html.j2", chats=listed, who=session.who, csrf=session.csrf)

    async def signin_form(request: Request) -> Response:
        return page("signin.html.j2", problem=None)

    async def signin(request: Request) -> Response:
        where = client(request)
        if access.blocked(where):
            log.warning("console.signin_blocked", client=where)
            return page("signin.html.j2", 429, problem="Too many failed attempts: wait a while.")
        form = await request.form()
        given, name = str(form.get("secret") or ""), str(form.get("name") or "")
        if not access.secret_matches(given):
            await asyncio.sleep(WRONG_SECRET_DELAY)
            access.failed(where)
            log.warning("console.signin_refused", client=where)
            return page("signin.html.j2", 401, problem="That is not the console's secret.")
        session_id, session = access.open_session(name)
        log.info("console.signin", who=session.who, client=where)
        response = RedirectResponse("/", 303)
        response.set_cookie(
            COOKIE,
            session_id,
            httponly=True,
            samesite="strict",
            secure=_https(request),
            path="/",
        )
        return response

    async def signout(request: Request) -> Response:
        session = session_of(request)
        form = await request.form()
        if session is not None and csrf_matches(session, str(form.get("csrf") or "")):
            access.close_session(request.cookies.get(COOKIE))
            log.info("console.signout", who=session.who)
        response = RedirectResponse("/signin", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    def page_caller(request: Request) -> tuple[Session, ConsoleChat] | Response:
        """The signed-in host and the chat the page is about, or where to go instead."""
        session = session_of(request)
        if session is None:
            return RedirectResponse("/signin", 303)
        chat = by_id.get(request.path_params["chat"])
        if chat is None:
            return page("missing.html.j2", 404)
        return session, chat

    async def chat_page(request: Request) -> Response:
        caller = page_caller(request)
        if isinstance(caller, Response):
            return caller
        session, chat = caller
        state = await to_thread.run_sync(lambda: reader.state(chat, plan_of(chat), now=clock.now()))
        return page("console.html.j2", s=state, who=session.who, csrf=session.csrf)

    async def events(request: Request) -> Response:
        if session_of(request) is None:
            return Response("sign in first", 401)
        chat_id = request.path_params["chat"]
        if chat_id not in by_id:
            return Response("no such chat", 404)

        async def stream() -> AsyncIterator[str]:
            async for html in live.subscribe(chat_id):
                if html is None:
                    yield ": keep-alive\n\n"
                else:
                    yield "event: state\ndata: " + json.dumps({"html": html}) + "\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"X-Accel-Buffering": "no"},
        )

    async def page_command(request: Request) -> Response:
        caller = page_caller(request)
        if isinstance(caller, Response):
            return caller
        session, chat = caller
        form = await request.form()
        if not csrf_matches(session, str(form.get("csrf") or "")):
            log.warning("console.csrf_refused", who=session.who, client=client(request))
            return Response("the form is out of date: reload the page", 403)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        occurrence = plan_of(chat)[0].id
        try:
            await store_command(chat, occurrence, fields, session.who)
        except BadCommand as exc:
            return Response(f"not done: {exc}", 400)
        return RedirectResponse(f"/chat/{chat.config.chat.id}#commands", 303)

    async def store_command(
        chat: ConsoleChat, occurrence: str, fields: dict[str, Any], who: str
    ) -> dict[str, Any]:
        now = clock.now()
        command = parse_command(fields, config=chat.config, occurrence=occurrence, by=who, now=now)
        stored = await to_thread.run_sync(commands.add, command)
        log.info(
            "console.command",
            who=who,
            occurrence=occurrence,
            command=stored.id,
            kind=stored.kind,
            platform=stored.platform,
            post_id=stored.post_id,
            slot=stored.slot,
            minutes=stored.minutes,
        )
        return {"id": stored.id, "kind": stored.kind, "state": stored.state}

    # -- the API ---------------------------------------------------------------------------

    async def api_caller(request: Request) -> tuple[str | None, Response | None]:
        name, refused = await bearer(request)
        if refused is not None or name is not None:
            return name, refused
        session = session_of(request)
        if session is None:
            return None, JSONResponse({"error": _API_SIGN_IN}, 401)
        if request.method != "GET" and not csrf_matches(
            session, request.headers.get("x-csrf-token")
        ):
            return None, JSONResponse({"error": "missing or wrong X-CSRF-Token header"}, 403)
        return session.who, None

    async def api_state(request: Request) -> Response:
        _who, refused = await api_caller(request)
        if refused is not None:
            return refused
        chat = occurrence_chat(request.path_params["occurrence"])
        if chat is None:
            return JSONResponse({"error": "not the current occurrence of a chat here"}, 404)
        state = await to_thread.run_sync(lambda: reader.state(chat, plan_of(chat), now=clock.now()))
        return JSONResponse(state)

    async def api_command(request: Request) -> Response:
        who, refused = await api_caller(request)
        if refused is not None:
            return refused
        occurrence = request.path_params["occurrence"]
        chat = occurrence_chat(occurrence)
        if chat is None:
            return JSONResponse({"error": "not the current occurrence of a chat here"}, 404)
        try:
            fields = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, 400)
        if not isinstance(fields, dict):
            return JSONResponse({"error": "the body must be a JSON object"}, 400)
        try:
            stored = await store_command(chat, occurrence, fields, who or "api")
        except BadCommand as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(stored, 202)

    async def openapi(request: Request) -> Response:
        _who, refused = await api_caller(request)
        return refused or JSONResponse(OPENAPI)

    async def static_file(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in static:
            return Response("not found", 404)
        return Response(static[name], media_type=_STATIC[name])

    routes = [
        Route("/", index),
        Route("/signin", signin_form, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/chat/{chat}", chat_page),
        Route("/chat/{chat}/events", events),
        Route("/chat/{chat}/commands", page_command, methods=["POST"]),
        Route("/api/openapi.json", openapi),
        Route("/api/occurrences/{occurrence:path}/commands", api_command, methods=["POST"]),
        Route("/api/occurrences/{occurrence:path}", api_state, methods=["GET"]),
        Route("/static/{name}", static_file),
        # Browsers ask for it unbidden: no icon, and no error in the page's console.
        Route("/favicon.ico", lambda _request: Response(status_code=204)),
    ]
    return Starlette(routes=routes, middleware=[Middleware(_SecurityHeaders)])


def _https(request: Request) -> bool:
    # Behind Heroku's router the app sees http; the router says what the browser used.
    return (
        request.url.scheme == "https"
        or request.headers.get("x-forwarded-proto", "").lower() == "https"
    )
