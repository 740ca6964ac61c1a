"""fmnist.fetch and stages/fetch.py: verified payloads from local .gz files, and no partial output on failure."""
import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fmnist.data import RAW_CHECKSUMS, sha256
from fmnist.errors import StudyError
from fmnist.fetch import CHECKSUMS_OVERRIDE_ENV, fetch_verified
from idx_builders import flip_byte, raw_payloads, write_checksums, write_gz_dir

PROJECT = Path(__file__).resolve().parents[1]
CORRUPT_NAME = "train-labels-idx1-ubyte"


@pytest.fixture
def payloads():
    return raw_payloads()


@pytest.fixture
def checksums(tmp_path, payloads, monkeypatch):
    """Point the fetch at digests of the synthetic payloads instead of the real Fashion-MNIST ones."""
    path = write_checksums(tmp_path / "checksums.json", payloads)
    monkeypatch.setenv(CHECKSUMS_OVERRIDE_ENV, str(path))
    return path


def test_fetch_verified_reads_every_file_from_the_local_dir(tmp_path, payloads, checksums):
    source = write_gz_dir(tmp_path / "source", payloads)
    fetched = fetch_verified(source, urls=(), timeout_s=1)
    assert set(fetched) == set(RAW_CHECKSUMS)
    for name, payload in payloads.items():
        assert fetched[name] == payload


def test_fetch_verified_falls_back_to_the_urls_in_order(tmp_path, payloads, checksums):
    served = write_gz_dir(tmp_path / "served", payloads)
    urls = ((tmp_path / "missing").as_uri(), served.as_uri())  # file:// URLs: the URL path without a network
    fetched = fetch_verified(tmp_path / "empty", urls=urls, timeout_s=1)
    assert fetched == payloads


def test_one_flipped_byte_names_the_file_and_both_digests(tmp_path, payloads, checksums):
    corrupt = dict(payloads, **{CORRUPT_NAME: flip_byte(payloads[CORRUPT_NAME])})
    source = write_gz_dir(tmp_path / "source", corrupt)
    with pytest.raises(StudyError) as caught:
        fetch_verified(source, urls=(), timeout_s=1)
    message = str(caught.value)
    assert message.startswith(f"{CORRUPT_NAME}: ")
    assert sha256(payloads[CORRUPT_NAME]) in message
    assert sha256(corrupt[CORRUPT_NAME]) in message


def test_real_checksums_are_used_without_the_override(tmp_path, payloads, monkeypatch):
    monkeypatch.delenv(CHECKSUMS_OVERRIDE_ENV, raising=False)
    source = write_gz_dir(tmp_path / "source", payloads)
    with pytest.raises(StudyError) as caught:
        fetch_verified(source, urls=(), timeout_s=1)
    first = next(iter(RAW_CHECKSUMS))
    assert str(caught.value).startswith(f"{first}: ")
    assert RAW_CHECKSUMS[first] in str(caught.value)


def test_missing_file_names_what_was_tried(tmp_path, payloads, checksums):
    del payloads["t10k-images-idx3-ubyte"]
    source = write_gz_dir(tmp_path / "source", payloads)
    with pytest.raises(StudyError) as caught:
        fetch_verified(source, urls=(), timeout_s=1)
    message = str(caught.value)
    assert message.startswith("t10k-images-idx3-ubyte.gz not found")
    assert str(source / "t10k-images-idx3-ubyte.gz") in message


def test_missing_file_lists_every_url_tried(tmp_path, payloads, checksums):
    urls = ((tmp_path / "mirror-a").as_uri(), (tmp_path / "mirror-b").as_uri())
    with pytest.raises(StudyError) as caught:
        fetch_verified(tmp_path / "empty", urls=urls, timeout_s=1)
    message = str(caught.value)
    first = next(iter(payloads))
    for base in urls:
        assert f"{base}/{first}.gz" in message


@pytest.mark.parametrize("content", [b"this is not gzip", None], ids=["not-gzip", "truncated-gzip"])
def test_non_gzip_file_is_rejected(tmp_path, payloads, checksums, content):
    source = write_gz_dir(tmp_path / "source", payloads)
    bad = source / f"{CORRUPT_NAME}.gz"
    bad.write_bytes(content if content is not None else gzip.compress(payloads[CORRUPT_NAME])[:-12])
    with pytest.raises(StudyError) as caught:
        fetch_verified(source, urls=(), timeout_s=1)
    assert str(caught.value).startswith(f"{bad} is not a valid gzip file")


def test_checksums_override_must_name_all_four_files(tmp_path, payloads, monkeypatch):
    del payloads[CORRUPT_NAME]
    monkeypatch.setenv(CHECKSUMS_OVERRIDE_ENV, str(write_checksums(tmp_path / "checksums.json", payloads)))
    with pytest.raises(StudyError, match="must give a digest for each"):
        fetch_verified(tmp_path, urls=(), timeout_s=1)


# The stage itself, as DVC runs it: a separate process in the project directory.

def run_fetch_stage(project, checksums_path):
    env = dict(os.environ, **{CHECKSUMS_OVERRIDE_ENV: str(checksums_path)})
    return subprocess.run([sys.executable, str(PROJECT / "stages" / "fetch.py")], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)


def make_project(root, payloads, source):
    """A directory with a params.yaml whose fetch section reads `source` and never the network."""
    root.mkdir()
    fetch = {"source_dir": str(source), "urls": [(root / "no-mirror").as_uri()], "timeout_s": 1}
    (root / "params.yaml").write_text(yaml.safe_dump({"fetch": fetch}))
    return root


def test_fetch_stage_failure_is_one_line_exit_2_and_no_output(tmp_path, payloads):
    checksums_path = write_checksums(tmp_path / "checksums.json", payloads)
    corrupt = dict(payloads, **{CORRUPT_NAME: flip_byte(payloads[CORRUPT_NAME])})
    project = make_project(tmp_path / "project", payloads, write_gz_dir(tmp_path / "source", corrupt))
    result = run_fetch_stage(project, checksums_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {CORRUPT_NAME}: ")
    assert sha256(payloads[CORRUPT_NAME]) in lines[0]
    assert not (project / "data" / "raw").exists()
    assert not list(project.rglob(".tmp-*"))


def test_failed_fetch_leaves_earlier_output_untouched(tmp_path, payloads):
    checksums_path = write_checksums(tmp_path / "checksums.json", payloads)
    source = write_gz_dir(tmp_path / "source", payloads)
    project = make_project(tmp_path / "project", payloads, source)
    raw = project / "data" / "raw"

    first = run_fetch_stage(project, checksums_path)
    assert first.returncode == 0, first.stderr
    before = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in raw.iterdir()}
    assert {name: content for name, (content, _) in before.items()} == payloads

    (source / f"{CORRUPT_NAME}.gz").write_bytes(gzip.compress(flip_byte(payloads[CORRUPT_NAME])))
    second = run_fetch_stage(project, checksums_path)
    assert second.returncode == 2
    assert second.stderr.startswith("error: ")
    after = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in raw.iterdir()}
    assert after == before
    assert not list(project.rglob(".tmp-*"))
