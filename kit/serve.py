"""`serve`: a local web app to preview every edition as it will print and to edit classes in forms."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import socket
import threading
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import TEMPLATES
from . import editor
from .cache import load_state
from .errors import KitError, Problem, display_path
from .preview import Workspace, problems_of, valid_id

WEB = TEMPLATES / "web"
HOSTS = ("127.0.0.1", "localhost")
UPLOAD_LIMIT = editor.ROSTER_LIMIT + 10_000  # a roster and the form around it
JSON_LIMIT = 2_000_000
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


class Guard:
    """Every POST carries the page's CSRF token and comes from this server's own origin; headers on every answer."""

    def __init__(self, app, token: str, port: int):
        self.app, self.token, self.origins = app, token, {f"http://{h}:{port}" for h in HOSTS}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] not in ("GET", "HEAD"):
            sent = headers.get("x-csrf-token", "")
            if headers.get("origin") not in self.origins or not hmac.compare_digest(sent, self.token):
                return await _plain(403, "refused: a change needs this page's token and origin")(scope, receive, send)
            length = headers.get("content-length", "")
            if not length.isdigit() or int(length) > JSON_LIMIT:
                return await _plain(413, "refused: the request is too large or has no length")(scope, receive, send)

        async def secure(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in have]
            await send(message)
        await self.app(scope, receive, secure)


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status_code=status, media_type="text/plain")


def create_app(content: Path, output: Path, templates: Path = TEMPLATES, port: int = 8765,
               watch: bool = True) -> Starlette:
    """The web app: pages, the preview's JSON, the editor's saves and uploads, builds."""
    ws = Workspace(content, output, templates)
    token = secrets.token_urlsafe(32)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(WEB)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    builds = Builds(ws)

    def page(name: str, request: Request, **context) -> HTMLResponse:
        html = env.get_template(name).render(token=token, path=request.url.path, **context)
        return HTMLResponse(html)

    async def home(request: Request):
        snap = await run_in_threadpool(ws.snapshot)
        kit = snap.kit or ws.last_good
        titles = {l.id: l.spec.title for l in kit.lessons} if kit else {}
        names = {c.id: c.profile.name for c in kit.classes} if kit else {}
        def listing(folder, names):
            out = []
            for file in sorted((content / folder).glob("*.yaml")):
                if valid_id(file.stem):
                    found = problems_of(file, snap.problems, content)
                    if folder == "classes":
                        found += [p for p in snap.problems if p.path.endswith(".csv") and p not in found
                                  and Path(p.path).stem == file.stem]
                    out.append({"id": file.stem, "title": names.get(file.stem, file.stem), "problems": len(found)})
            return out
        lessons, classes = listing("lessons", titles), listing("classes", names)
        counted = sum(x["problems"] for x in lessons + classes)
        return page("home.html.j2", request, lessons=lessons, classes=classes, problems=[str(p) for p in snap.problems],
                    other=len(snap.problems) - counted, content=display_path(content))

    async def lesson_page(request: Request):
        ident = request.path_params["id"]
        if not valid_id(ident) or not (content / "lessons" / f"{ident}.yaml").is_file():
            return _plain(404, "no such lesson")
        return page("lesson.html.j2", request, kind="lesson", ident=ident)

    async def class_page(request: Request):
        ident = request.path_params["id"]
        new = ident == "new"
        if not new and (not valid_id(ident) or not (content / "classes" / f"{ident}.yaml").is_file()):
            return _plain(404, "no such class")
        snap = await run_in_threadpool(ws.snapshot)
        kit = snap.kit or ws.last_good
        if kit is None:
            return page("class.html.j2", request, kind="class", ident=ident, form=None, form_json="{}",
                        broken=[str(p) for p in snap.problems])
        lessons = {l.id: l for l in kit.lessons}
        try:
            data = await run_in_threadpool(editor.form, content, "" if new else ident, lessons)
            broken = []
        except KitError as exc:
            data, broken = None, [str(p) for p in exc.problems]
        return page("class.html.j2", request, kind="class", ident="" if new else ident, form=data, broken=broken,
                    form_json=json.dumps(data or {}))

    async def preview(request: Request):
        kind, ident = request.path_params["kind"], request.path_params["id"]
        if kind not in ("lesson", "class") or not valid_id(ident):
            return _plain(404, "no such page")
        answer = await run_in_threadpool(_preview, ws, kind, ident)
        if request.query_params.get("since") == answer["state"]:
            return JSONResponse({"state": answer["state"], "same": True})
        return JSONResponse(answer)

    async def pdf_file(request: Request):
        path = ws.pdf(request.path_params["sha"])
        if path is None:
            return _plain(404, "no such document")
        return FileResponse(path, media_type="application/pdf")

    async def page_png(request: Request):
        number = request.path_params["n"]
        data = await run_in_threadpool(ws.page_png, request.path_params["sha"], number)
        if data is None:
            return _plain(404, "no such page")
        return Response(data, media_type="image/png")

    async def save(request: Request):
        try:
            data = json.loads(await request.body())
            assert isinstance(data, dict)
        except (ValueError, AssertionError):
            return _plain(400, "the form could not be read")
        if request.path_params["id"] not in ("new", data.get("id")):
            return _plain(400, "the form is for another class")
        snap = await run_in_threadpool(ws.snapshot)
        try:
            text = await run_in_threadpool(editor.save, content, output, data, snap.kit or ws.last_good)
        except editor.Conflict as exc:
            return JSONResponse({"conflict": [str(p) for p in exc.problems]}, status_code=409)
        except KitError as exc:
            return JSONResponse({"problems": [str(p) for p in exc.problems]}, status_code=422)
        ws.changed()
        return JSONResponse({"saved": display_path(content / "classes" / f"{data['id']}.yaml"), "text": text,
                             "base": editor.file_base(content, data["id"]), "url": f"/class/{data['id']}"})

    async def roster(request: Request):
        ident = request.path_params["id"]
        if not valid_id(ident):
            return _plain(404, "no such class")
        if int(request.headers.get("content-length", "0")) > UPLOAD_LIMIT:
            return _plain(413, f"a roster may be at most {editor.ROSTER_LIMIT:,} bytes")
        try:
            async with request.form(max_files=1, max_fields=5, max_part_size=UPLOAD_LIMIT) as form:
                upload = form.get("roster")
                if upload is None or isinstance(upload, str):
                    return _plain(400, "no roster file in the upload")
                data = await upload.read(UPLOAD_LIMIT + 1)
        except HTTPException:
            return _plain(400, "the upload could not be read")
        name = str(request.query_params.get("name") or f"{ident}.csv")
        if not editor.valid_roster_name(name):
            name = f"{ident}.csv"
        names, problems = await run_in_threadpool(editor.check_roster, output, content, name, data)
        text = data.decode("utf-8-sig", errors="replace") if not problems else ""
        return JSONResponse({"name": name, "students": names, "problems": [str(p) for p in problems], "csv": text})

    async def build_start(request: Request):
        ident = request.path_params["id"]
        if not valid_id(ident):
            return _plain(404, "no such class")
        return JSONResponse(builds.start(ident))

    async def build_status(request: Request):
        if not valid_id(request.path_params["id"]):
            return _plain(404, "no such class")
        return JSONResponse(builds.status(request.path_params["id"]))

    async def built_file(request: Request):
        rel = request.path_params["path"]
        state = load_state(output)
        if rel not in state or any(part.startswith(".") for part in Path(rel).parts):
            return _plain(404, "not a built file")
        from .write import inside
        try:
            target = inside(output, rel)
        except KitError:
            return _plain(404, "not a built file")
        return FileResponse(target) if target.is_file() else _plain(404, "not a built file")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        stop = asyncio.Event()
        task = asyncio.create_task(_watch(ws, stop)) if watch else None
        try:
            yield
        finally:
            stop.set()
            if task:
                with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                    await asyncio.wait_for(task, 2)
            await run_in_threadpool(ws.close)

    routes = [
        Route("/", home),
        Route("/lesson/{id}", lesson_page),
        Route("/class/{id}", class_page),
        Route("/api/preview/{kind}/{id}", preview),
        Route("/pdf/{sha:str}.pdf", pdf_file),
        Route("/page/{sha:str}/{n:int}.png", page_png),
        Route("/class/{id}/save", save, methods=["POST"]),
        Route("/class/{id}/roster", roster, methods=["POST"]),
        Route("/class/{id}/build", build_start, methods=["POST"]),
        Route("/api/build/{id}", build_status),
        Route("/files/{path:path}", built_file),
        Mount("/static", StaticFiles(directory=str(WEB / "static")), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=list(HOSTS)),
                  Middleware(Guard, token=token, port=port)]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.workspace = ws
    return app


def _preview(ws: Workspace, kind: str, ident: str) -> dict:
    """What a lesson or class page shows now: every edition's pages, and every problem."""
    snap = ws.snapshot()
    known = ws.answers.get((kind, ident))
    if known and known[0] == snap.generation and all(ws.pdf_known(e["pdf"]) for e in known[1]["editions"]):
        return known[1]
    jobs = ws.jobs(kind, ident)
    printed, problems = ws.print_jobs(jobs) if jobs else ([], [])
    problems = [str(p) for p in snap.problems + tuple(problems)]
    if not jobs and not problems:
        problems = [f"{kind} '{ident}' is not in the kit"]
    editions = []
    for job, doc in zip(jobs, printed):
        label = "Teacher edition" if job.kind == "teacher" else "Student handout"
        editions.append({"title": f"{label}: {job.lesson.spec.title}", "kind": job.kind, "lesson": job.lesson.id,
                         "pdf": f"/pdf/{doc.sha}.pdf",
                         "pages": [{"png": f"/page/{doc.sha}/{n}.png", "text": text}
                                   for n, text in enumerate(doc.texts, start=1)]})
    state = hashlib.sha256(json.dumps([problems, [e["pdf"] for e in editions]]).encode()).hexdigest()
    answer = {"state": state, "problems": problems, "stale": snap.kit is None, "editions": editions}
    if len(ws.answers) > 100:
        ws.answers.clear()
    ws.answers[(kind, ident)] = (snap.generation, answer)
    return answer


async def _watch(ws: Workspace, stop: asyncio.Event) -> None:
    """Read the kit again whenever a file in content/ or templates/ changes."""
    from watchfiles import awatch
    async for _ in awatch(ws.content, ws.templates, stop_event=stop, debounce=150, step=50,
                          watch_filter=lambda change, path: "/web/" not in path and not Path(path).name.startswith(".")):
        ws.changed()


class Builds:
    """The class builds started from the browser: the same build, lock and cache as `python build.py`."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self.jobs: dict[str, dict] = {}
        self.lock = threading.Lock()

    def start(self, class_id: str) -> dict:
        with self.lock:
            if any(j["state"] == "running" for j in self.jobs.values()):
                return {"state": "refused", "problems": ["another build is running; wait for it to finish"]}
            job = self.jobs[class_id] = {"state": "running", "done": 0, "total": 0, "problems": [], "files": []}
        threading.Thread(target=self._run, args=(class_id, job), daemon=True).start()
        return job

    def _run(self, class_id: str, job: dict) -> None:
        from .build import build

        def progress(group, done, total):
            job["done"], job["total"] = done, total
        try:
            report = build(self.ws.content, self.ws.output, classes=[class_id], progress=progress,
                           templates=self.ws.templates)
            job["summary"] = str(report)
            job["files"] = built_files(self.ws.output, class_id)
            job["state"] = "done"
        except KitError as exc:
            job["problems"], job["state"] = [str(p) for p in exc.problems], "failed"
        except Exception as exc:  # noqa: BLE001 - shown in the page, like the CLI's exit code 1
            job["problems"], job["state"] = [f"internal error: {type(exc).__name__}: {exc}"], "failed"

    def status(self, class_id: str) -> dict:
        return self.jobs.get(class_id) or {"state": "none", "files": built_files(self.ws.output, class_id)}


def built_files(output: Path, class_id: str) -> list[dict]:
    """The class's files as the last build recorded them (whatever folders the build puts them in)."""
    out = []
    for rel, info in sorted(load_state(output).items()):
        top = rel.split("/")[0]
        if info.get("group") == class_id or top == class_id or Path(top).stem == class_id and "/" not in rel:
            if (output / rel).is_file() and not rel.endswith(".html") or rel.endswith("index.html"):
                out.append({"path": rel, "url": f"/files/{rel}", "size": info.get("size", 0),
                            "pages": info.get("pages", 0), "kind": info.get("kind", "")})
    return out


def bind(port: int) -> socket.socket:
    """A listening socket on the loopback address only."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise KitError(Problem("--port", 1, 1, f"cannot listen on 127.0.0.1:{port}: {exc.strerror}",
                               "another program uses this port; pick another with --port N"))
    sock.listen(64)
    return sock


def serve(content: Path, output: Path, templates: Path, port: int, ready=None) -> None:
    """Run the app on 127.0.0.1 until Ctrl-C; `ready(url)` is called once it listens."""
    import uvicorn

    if not Path(content).is_dir():
        raise KitError(Problem(str(content), 1, 1, "content folder not found", "pass --content DIR"))
    sock = bind(port)
    port = sock.getsockname()[1]
    app = create_app(Path(content), Path(output), templates, port)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5)

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            app.state.workspace.close()  # a preview waiting for a render answers at once
            # A render still running past the grace period is cancelled: expected on Ctrl-C, not a crash to log.
            logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
            super().handle_exit(sig, frame)
    server = Server(config)

    def announce():
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started and ready:
            ready(f"http://127.0.0.1:{port}/")
    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down on Ctrl-C, then raises it again: that is our normal stop
        pass
