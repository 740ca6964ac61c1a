"""`python -m fmnist.docs` (bin/docs): rewrite every generated passage and picture from the committed files;
with --check, change nothing and list what is stale (exit status 1)."""
import argparse
import sys

from fmnist.docs.pages import stale_passages, write_pages
from fmnist.docs.pictures import draw_pictures, stale_pictures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; list the stale passages and pictures")
    if parser.parse_args().check:
        problems = stale_passages() + stale_pictures()
        print("\n".join(problems) or "docs: every passage and picture is up to date")
        sys.exit(1 if problems else 0)
    write_pages()
    draw_pictures()


if __name__ == "__main__":
    main()
