"""Executes one notebook headlessly on a Jupyter kernel and writes the executed copy.

Used by test/notebooks.test.ts (run it with the system python, /usr/bin/python3, which has nbclient):

    nbrun.py NOTEBOOK OUT.ipynb --kernel nst-tslab --cwd ROOT --timeout 600

The executed notebook is written even when a cell fails, so the caller can report every error output.
Exit status: 0 when all cells ran, 1 when a cell failed, 2 when the kernel could not run the notebook.
"""
import argparse
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('notebook')
    ap.add_argument('out')
    ap.add_argument('--kernel', required=True)
    ap.add_argument('--cwd', required=True, help='working directory the kernel starts in')
    ap.add_argument('--timeout', type=int, default=600, help='seconds per cell')
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    client = NotebookClient(nb, kernel_name=args.kernel, timeout=args.timeout,
                            resources={'metadata': {'path': args.cwd}})
    status = 0
    try:
        client.execute()
    except CellExecutionError as e:
        print(str(e), file=sys.stderr)
        status = 1
    except Exception as e:  # kernel died, timed out, or could not start
        print(f'{type(e).__name__}: {e}', file=sys.stderr)
        status = 2
    nbformat.write(nb, args.out)
    return status


if __name__ == '__main__':
    sys.exit(main())
