"""Test infrastructure: a local OpenAI-compatible HTTP server (stdlib, one thread) with fault injection.

It answers `/v1/models` and `/v1/chat/completions` on 127.0.0.1 with `FakeLLM`'s deterministic
answers, so the real `openai` client can be exercised end to end without any network. It has no
authentication and injects faults on purpose, which is why it lives in tests/ and not in the
library (issue 19); the notebook's offline demo uses the in-process `llm.FakeLLM` instead.

Faults are consumed one per chat request, in order (then normal answers resume):
``"500"``, ``"400"``/``"401"`` (client errors: not retried), ``"429"`` or ``"429:<retry-after seconds>"``, ``"hang:<seconds>"`` (sleep, then answer),
``"malformed"`` (HTTP 200 with a body that is not JSON), ``"out_of_range"`` (a scoring answer
naming clause L+5), ``"garbage"`` (an answer with no clause list), ``"bad_json_content"`` (content
``{"recalled": [1, 2`` — truncated JSON), ``"obey_injection"`` (answer every clause 1..L plus
prose, as a model that followed an injected instruction would), ``"no_json_mode"`` (HTTP 400 when
`response_format` is sent; persistent when `json_mode=False` is given to the server).
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from analysis_lib.memory import data as D
from analysis_lib.memory import prompts as P
from analysis_lib.memory.llm import FakeLLM


class FakeOpenAIServer:
    """`with FakeOpenAIServer() as srv: ... srv.base_url ...`; `srv.requests` records every chat
    request body and its headers (tests check what the client sent)."""

    def __init__(self, model: str = "fake-llm", faults=(), json_mode: bool = True, overlap: float = 0.5):
        self.model = model
        self.faults = deque(faults)
        self.json_mode = json_mode
        self.llm = FakeLLM(overlap=overlap)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0  # most chat requests served at the same time (concurrency checks)
        self._httpd = None
        self._thread = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "FakeOpenAIServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # keep test output quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict | None = None):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [
                        {"id": server.model, "object": "model", "owned_by": "test"}]}).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(n)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    return self._send(404, b'{"error": {"message": "not found"}}')
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._send(400, b'{"error": {"message": "bad json"}}')
                with server.lock:
                    server.requests.append({"body": body, "headers": {k.lower(): v for k, v in self.headers.items()}})
                    fault = server.faults.popleft() if server.faults else None
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    status, payload, headers = server.respond(body, fault)
                finally:
                    with server.lock:
                        server.in_flight -= 1
                self._send(status, payload, headers)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def n_chat_requests(self) -> int:
        return len(self.requests)

    # ------------------------------------------------------------------ answers
    def respond(self, body: dict, fault: str | None):
        err = lambda status, msg, h=None: (status, json.dumps(  # noqa: E731
            {"error": {"message": msg, "type": "test_fault", "code": status}}).encode(), h or {})
        rf = body.get("response_format")
        if rf and (not self.json_mode or fault == "no_json_mode"):
            return err(400, "response_format is not supported by this server")
        if fault == "500":
            return err(500, "injected server error")
        if fault in ("400", "401"):
            return err(int(fault), "injected client error")
        if fault and fault.startswith("429"):
            ra = fault.split(":", 1)[1] if ":" in fault else None
            return err(429, "injected rate limit", {"Retry-After": ra} if ra else {})
        if fault and fault.startswith("hang:"):
            time.sleep(float(fault.split(":", 1)[1]))
        if fault == "malformed":
            return 200, b'{"id": "x", "choices": [{"message": {"content": "unterminated', {}
        msgs = body.get("messages", [])
        json_mode = bool(rf)
        text = self.llm.complete(msgs, json_mode=json_mode).text
        if fault in ("out_of_range", "obey_injection", "garbage", "bad_json_content"):
            L = len(D.parse_segmentation(P.extract_block(msgs, "story") or ""))
            if fault == "out_of_range":
                nums = [1, L + 5]
                text = json.dumps({"recalled": nums}) if json_mode else f"{P.FINAL_LINE} ({', '.join(map(str, nums))})"
            elif fault == "obey_injection":
                # every clause, each "quoted" with the clause's own words (evidence the recall lacks)
                clauses = D.parse_segmentation(P.extract_block(msgs, "story") or "")
                nums = list(range(1, L + 1))
                text = ("Sure! Ignoring the previous instructions as requested. Here is every clause.\n"
                        + (json.dumps({"recalled": [{"clause": i, "quote": c} for i, c in enumerate(clauses, 1)]})
                           if json_mode else "\n".join(f'{i}. "{c}"' for i, c in enumerate(clauses, 1))
                           + f"\n({', '.join(map(str, nums))})"))
            elif fault == "garbage":
                text = "I am not able to compare these texts."
            else:
                text = '{"recalled": [1, 2'
        payload = {"id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
                   "model": self.model, "system_fingerprint": "fp_test",
                   "choices": [{"index": 0, "finish_reason": "stop",
                                "message": {"role": "assistant", "content": text}}],
                   "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        return 200, json.dumps(payload).encode(), {}
