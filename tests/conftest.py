"""Shared fixtures: loopback servers for the dev corpus and the demo site."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests: the default run checks a fixed, modest sample so it is quick
# and never goes red at random; `HYPOTHESIS_PROFILE=long pytest tests/test_properties.py`
# explores 10,000 fresh examples per property. Pin each counterexample a long run
# finds as an @example so the default run keeps checking it.
_PROPERTY_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", max_examples=300, derandomize=True, **_PROPERTY_SETTINGS)
settings.register_profile("long", max_examples=10_000, **_PROPERTY_SETTINGS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parent.parent
SHARED_CORPUS = Path(os.environ.get("NEWSWATCH_CORPUS", REPO.parent / "shared" / "corpus"))
CORPUS_PORT = 8765  # the corpus's feeds and gold URLs name this port


def corpus_available() -> bool:
    return (SHARED_CORPUS / "gold.jsonl").is_file() and (SHARED_CORPUS / "site" / "feeds").is_dir()


requires_corpus = pytest.mark.skipif(
    not corpus_available(), reason=f"dev corpus not found at {SHARED_CORPUS} (../shared/corpus)"
)


@pytest.fixture(scope="session")
def corpus_server():
    """The shared dev corpus served on 127.0.0.1:8765, as its README prescribes."""
    if not corpus_available():
        pytest.skip(f"dev corpus not found at {SHARED_CORPUS} (../shared/corpus)")
    from newswatch.demo.server import StaticServer

    try:
        server = StaticServer(SHARED_CORPUS / "site", port=CORPUS_PORT)
    except OSError:
        # A developer is already serving the corpus there (its README's
        # `python3 -m http.server 8765`): use it if it really is the corpus.
        yield _existing_corpus_server()
        return
    with server:
        yield server


class _ExistingServer:
    host_port = f"127.0.0.1:{CORPUS_PORT}"
    base_url = f"http://127.0.0.1:{CORPUS_PORT}"


def _existing_corpus_server() -> _ExistingServer:
    import urllib.request

    name = next((SHARED_CORPUS / "site" / "feeds").glob("*.xml")).name
    url = f"{_ExistingServer.base_url}/feeds/{name}"
    with urllib.request.urlopen(url, timeout=5) as response:
        if response.read() != (SHARED_CORPUS / "site" / "feeds" / name).read_bytes():
            pytest.fail(f"port {CORPUS_PORT} is busy with something other than the dev corpus")
    return _ExistingServer()


@pytest.fixture(scope="session")
def corpus_feed_list(tmp_path_factory, corpus_server) -> Path:
    """A plain-text feed list naming the six corpus feeds."""
    names = sorted(p.name for p in (SHARED_CORPUS / "site" / "feeds").glob("*.xml"))
    path = tmp_path_factory.mktemp("feeds") / "feeds.txt"
    path.write_text("# dev corpus\n" + "".join(f"{corpus_server.base_url}/feeds/{n}\n" for n in names))
    return path


@pytest.fixture(scope="session")
def corpus_gold() -> list[dict]:
    import json

    return [json.loads(line) for line in (SHARED_CORPUS / "gold.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def corpus_expected_errors() -> list[dict]:
    import json

    path = SHARED_CORPUS / "expected_errors.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def site_copy(tmp_path):
    """A writable copy of a site folder (for tests that change feeds while serving)."""

    def make(src: Path) -> Path:
        dst = tmp_path / "site"
        shutil.copytree(src, dst)
        return dst

    return make


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory, corpus_server, corpus_feed_list) -> Path:
    """One batch run over the dev corpus, as an operator would start it, minus politeness.

    Every corpus page is on one loopback host, so the default 1 s per-host gap
    alone would cost about two minutes; politeness has its own tests.
    """
    from newswatch.cli import main

    db = tmp_path_factory.mktemp("corpus") / "corpus.duckdb"
    code = main(["run", "--feeds", str(corpus_feed_list), "--db", str(db),
                 "--allow-host", corpus_server.host_port, "--host-delay", "0"])
    assert code == 0
    return db




# The longest modules of the slow set, longest first: under xdist they start first, so
# that no long module is left to run alone on one worker at the end.
_LONGEST_FIRST = ("tests/test_stream_load.py", "tests/test_readers.py", "tests/test_faults.py", "tests/test_stream.py")


def pytest_collection_modifyitems(config, items):
    """Groups for pytest-xdist's `--dist loadgroup` (CI runs the slow set two at a time).

    Each test module runs on one worker, so its module-scoped fixtures (a crawl, a
    spaCy pipeline, a fault site's runs) are built once; the tests that use the corpus
    server all run on one worker, since the corpus must be served on its fixed port 8765.
    Without `-n`, nothing changes.
    """
    if not config.pluginmanager.hasplugin("xdist") or not config.getoption("numprocesses", None):
        return
    for item in items:
        corpus = "corpus_server" in getattr(item, "fixturenames", ())
        item.add_marker(pytest.mark.xdist_group("corpus" if corpus else item.nodeid.split("::")[0]))

    def rank(item) -> int:
        module = item.nodeid.split("::")[0]
        return _LONGEST_FIRST.index(module) if module in _LONGEST_FIRST else len(_LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within each module stays
