"""Stage fetch: the four raw Fashion-MNIST IDX files, verified, into data/raw/."""
from fmnist.atomic import atomic_dir
from fmnist.errors import run_stage
from fmnist.fetch import fetch_verified
from fmnist.paths import RAW_DIR
from fmnist.params import FetchParams, load_params

def main():
    params = load_params("fetch", FetchParams)
    payloads = fetch_verified(params.source_dir, params.urls, params.timeout_s)
    with atomic_dir(RAW_DIR) as temp:
        for name, payload in payloads.items():
            (temp / name).write_bytes(payload)
    print(f"fetch: {len(payloads)} verified files in {RAW_DIR}/")


if __name__ == "__main__":
    run_stage(main)
