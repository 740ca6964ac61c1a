"""Obtain the four raw IDX payloads: a local directory of .gz files first, then the official URLs."""
import gzip
import json
import os
import urllib.request
from pathlib import Path

from fmnist.data import RAW_CHECKSUMS, verify_payload
from fmnist.errors import StudyError

# Tests serve synthetic IDX files and name their digests in a JSON file through this variable.
CHECKSUMS_OVERRIDE_ENV = "FMNIST_CHECKSUMS_FILE"


def expected_checksums():
    override = os.environ.get(CHECKSUMS_OVERRIDE_ENV)
    if not override:
        return dict(RAW_CHECKSUMS)
    checksums = json.loads(Path(override).read_text(encoding="utf-8"))
    if set(checksums) != set(RAW_CHECKSUMS):
        raise StudyError(f"{override} must give a digest for each of {', '.join(RAW_CHECKSUMS)}")
    return checksums


def fetch_payload(name, source_dir, urls, timeout_s):
    """Return the decompressed bytes of `name` from the first source that has it."""
    tried = []
    local = Path(source_dir) / f"{name}.gz"
    if local.is_file():
        return decompress(local.read_bytes(), str(local))
    tried.append(f"{local} (no such file)")
    for base in urls:
        url = f"{base.rstrip('/')}/{name}.gz"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                return decompress(response.read(), url)
        except OSError as error:
            tried.append(f"{url} ({getattr(error, 'reason', error)})")
    raise StudyError(f"{name}.gz not found; tried {'; '.join(tried)}. Fix: `apt-get install dataset-fashion-mnist`, "
                     "set fetch.source_dir to a folder with the four .gz files, or connect to the internet")


def decompress(compressed, origin):
    try:
        return gzip.decompress(compressed)
    except (OSError, EOFError) as error:
        raise StudyError(f"{origin} is not a valid gzip file ({error}): replace it") from None


def fetch_verified(source_dir, urls, timeout_s):
    """All four payloads, each verified, as {name: bytes}; raises before returning anything partial."""
    checksums = expected_checksums()
    payloads = {}
    for name, digest in checksums.items():
        payloads[name] = fetch_payload(name, source_dir, urls, timeout_s)
        verify_payload(name, payloads[name], digest)
    return payloads
