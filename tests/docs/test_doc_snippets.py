"""The README's and docs' marked blocks run as written, against a server started the way
the README says (its `<!-- snippet: server -->` block: `make run`), on a free port
given through BIND, with a throwaway SQLite database. See tests/docs/snippets.py for the
markers and the rules a snippet follows; docs/CONTRIBUTING.md for writers.

One test per snippet, in document order, so pytest's count is the number of snippets.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.docs.snippets import ROOT, Snippet, SnippetError, collect, failure, parse, run
from tests.pgserver import free_port
from tests.serving import PIPE_BUFFER, past_a_pipes_worth, serve_log, start_logged, wait_for_http

pytestmark = pytest.mark.e2e

SNIPPETS = collect()
RUNNABLE = [s for s in SNIPPETS if s.kind is None]
VENV = ROOT / ".venv"


def newcomer_env(tmp: Path, bind: str) -> dict[str, str]:
    """The environment of a shell in the repository: the test's own, minus the
    virtualenv on the PATH and any SIPTAR_* setting, plus BIND, a database, a spool
    and a FastAGI port of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIPTAR_", "VIRTUAL_ENV"))}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != VENV / "bin"]
    env["PATH"] = os.pathsep.join(path)
    env |= {"BIND": bind, "SIPTAR_DATABASE_URL": f"sqlite:///{tmp / 'siptar.db'}"}
    env["SIPTAR_SPOOL_DIR"] = str(tmp / "spool")
    env["SIPTAR_AGI_BIND"] = f"127.0.0.1:{free_port()}"  # docs/dialplan.md starts `siptar agi`
    return env


@pytest.fixture(scope="module")
def snippets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The served database's directory, and the server's log (`serve_log`)."""
    return tmp_path_factory.mktemp("snippets")


@pytest.fixture(scope="module")
def served(snippets_dir: Path) -> Iterator[dict[str, str]]:
    if Path(sys.prefix).resolve() != VENV.resolve():
        pytest.skip("the README runs .venv/bin/...: run the suite with .venv/bin/pytest")
    stale = subprocess.run(["make", "-q", ".venv/.installed"], cwd=ROOT, check=False)
    if stale.returncode != 0:
        pytest.fail("the virtualenv is older than setup.cfg: run `make devenv` first")
    (server,) = [s for s in SNIPPETS if s.kind == "server"]
    env = newcomer_env(snippets_dir, f"127.0.0.1:{free_port()}")
    log = serve_log(snippets_dir)
    proc = start_logged(["bash", "-e", "-c", server.text], cwd=ROOT, env=env, log=log)
    try:
        what = f"the server snippet {server.where}"
        wait_for_http(f"http://{env['BIND']}/billing?wsdl", proc, what, 120, log=log)
        yield env
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.mark.parametrize("snippet", RUNNABLE, ids=[s.where for s in RUNNABLE])
def test_the_snippet_runs_as_written(snippet: Snippet, served: dict[str, str]) -> None:
    problem = failure(snippet, run(snippet, served, VENV / "bin" / "python"))
    assert problem is None, problem


def test_the_served_readme_answers_past_a_pipes_worth_of_output(
    served: dict[str, str], snippets_dir: Path
) -> None:
    # After the snippets, which ran against it: `make run` writes an access-log line per
    # request, and a server whose output went to a pipe nobody read stopped answering
    # once 64 KiB of it were written.
    assert past_a_pipes_worth(f"http://{served['BIND']}") == {404}
    assert serve_log(snippets_dir).stat().st_size > PIPE_BUFFER


def test_the_readme_has_one_server_block_and_its_first_hour_is_marked() -> None:
    servers = [s for s in SNIPPETS if s.kind == "server"]
    assert [s.path for s in servers] == [Path("README.md")]
    assert "make run" in servers[0].text
    assert len([s for s in RUNNABLE if s.path == Path("README.md")]) >= 4


class TestTheCollector:
    def test_a_broken_snippet_is_reported_with_its_place_and_output(self) -> None:
        text = "intro\n<!-- snippet -->\n```sh\necho about to fail\nfalse\necho never\n```\n"
        (snippet,) = parse(Path("docs/x.md"), text)
        done = run(snippet, dict(os.environ), Path(sys.executable), timeout=30)
        problem = failure(snippet, done)
        assert problem is not None and "docs/x.md:3 exited 1" in problem
        assert "about to fail" in problem and "never" not in done.stdout

    def test_a_failing_python_snippet_fails(self) -> None:
        text = "<!-- snippet -->\n```python\nassert 1 + 1 == 3, 'arithmetic'\n```\n"
        (snippet,) = parse(Path("README.md"), text)
        problem = failure(snippet, run(snippet, dict(os.environ), Path(sys.executable)))
        assert problem is not None and "AssertionError: arithmetic" in problem

    def test_only_marked_blocks_are_collected(self) -> None:
        text = "```sh\nrm -rf /\n```\n<!-- snippet -->\n```bash\necho hi\n```\n"
        assert [(s.line, s.text) for s in parse(Path("a.md"), text)] == [(5, "echo hi\n")]

    @pytest.mark.parametrize(
        "text",
        [
            "<!-- snippet -->\nno block here\n",
            "<!-- snippet -->\n```ini\n[x]\n```\n",
            "<!-- snippet: bogus -->\n```sh\ntrue\n```\n",
            "<!-- snippet -->\n```sh\nnever closed\n",
        ],
    )
    def test_a_marker_it_cannot_use_is_an_error(self, text: str) -> None:
        with pytest.raises(SnippetError):
            parse(Path("a.md"), text)

    def test_an_output_block_is_checked_in_order(self) -> None:
        text = (
            "<!-- snippet -->\n```sh\necho 'a   1'; echo b; echo c\n```\n\nIt prints:\n\n"
            "<!-- output -->\n```text\na 1\nc\n```\n"
        )
        (snippet,) = parse(Path("a.md"), text)
        assert snippet.expected == ("a 1", "c")
        assert failure(snippet, run(snippet, dict(os.environ), Path(sys.executable))) is None
        wrong = replace(snippet, expected=("c", "a 1"))
        problem = failure(wrong, run(wrong, dict(os.environ), Path(sys.executable)))
        assert problem is not None and "lacks (in order) 'a 1'" in problem

    def test_an_output_block_needs_a_snippet_before_it(self) -> None:
        with pytest.raises(SnippetError):
            parse(Path("a.md"), "<!-- output -->\n```text\nx\n```\n")

    def test_a_marker_shown_inside_a_block_is_only_text(self) -> None:
        text = "````markdown\n<!-- snippet -->\n```sh\nfalse\n```\n````\n"
        assert parse(Path("a.md"), text) == []
