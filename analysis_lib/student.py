"""`python -m analysis_lib.student` (`make student`): student versions of the notebooks.

A notebook's exercises sit in its "Exercises" section, after the Explore section and before the
closing cell. Each is a markdown cell tagged `exercise` (the task) followed by a code cell tagged
`solution` whose first line is `# Hint: ...`. The exercises use only the set-up cells and the
library, never a variable made by a solution, so each can be done on its own.

The student version of `notebooks/<nb>.ipynb` is written to `reports/student/<nb>.ipynb` with every
solution cell replaced by a stub: the hint, then `raise NotImplementedError(...)`. Everything else
is unchanged, so the instructor notebook (run by `make reproduce` and the tests) keeps its
solutions, and a student's run stops only in the exercise cells.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from ._paths import repo_root

EXERCISE_TAG = "exercise"
SOLUTION_TAG = "solution"
HINT_PREFIX = "# Hint:"


def _tags(cell: dict[str, Any]) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def exercises(nb: dict[str, Any]) -> list[tuple[int, int]]:
    """(exercise cell index, solution cell index) pairs of a notebook (as JSON), checked: each exercise
    is a markdown cell followed by its solution, a code cell whose first line is the hint."""
    cells = nb["cells"]
    pairs = []
    for i, cell in enumerate(cells):
        if EXERCISE_TAG in _tags(cell):
            if cell["cell_type"] != "markdown":
                raise ValueError(f"cell {i}: an '{EXERCISE_TAG}' cell must be markdown (the task)")
            j = i + 1
            if j >= len(cells) or SOLUTION_TAG not in _tags(cells[j]) or cells[j]["cell_type"] != "code":
                raise ValueError(f"cell {i}: an exercise must be followed by a code cell tagged '{SOLUTION_TAG}'")
            if not _source(cells[j]).lstrip().startswith(HINT_PREFIX):
                raise ValueError(f"cell {j}: a solution cell must start with '{HINT_PREFIX} ...'")
            pairs.append((i, j))
        elif SOLUTION_TAG in _tags(cell) and not (pairs and pairs[-1][1] == i):
            raise ValueError(f"cell {i}: a '{SOLUTION_TAG}' cell must follow an '{EXERCISE_TAG}' cell")
    return pairs


def stub(solution_source: str, number: int) -> str:
    """The student's cell: the solution's hint lines, then a NotImplementedError naming the exercise."""
    hint = [line for line in solution_source.splitlines() if line.startswith(HINT_PREFIX)]
    return "\n".join(hint + ["# Your code here; delete the line below when you are done.",
                             f'raise NotImplementedError("Exercise {number}: not done yet (see the hint above)")'])


def student_version(nb: dict[str, Any]) -> dict[str, Any]:
    """A copy of the notebook with each solution replaced by its stub."""
    out = copy.deepcopy(nb)
    for number, (_, j) in enumerate(exercises(nb), 1):
        cell = out["cells"][j]
        cell["source"] = stub(_source(cell), number)
        cell["outputs"], cell["execution_count"] = [], None
    return out


def write_student_notebooks(names: Sequence[str] | None = None, out: Path | None = None,
                            notebook_dir: Path | None = None) -> list[Path]:
    """Student versions of `names` (default: every notebook with exercises) under `out`
    (default `reports/student/`)."""
    notebook_dir = notebook_dir or repo_root() / "notebooks"
    out = out or repo_root() / "reports" / "student"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for path in sorted(notebook_dir.glob("*.ipynb")):
        if names and path.stem not in names:
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        if not exercises(nb):
            continue
        target = out / path.name
        target.write_text(json.dumps(student_version(nb), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        paths.append(target)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis_lib.student", description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", metavar="NAME", help="notebook stems; default every notebook with exercises")
    p.add_argument("--out", type=Path, default=None, help="output folder (default reports/student)")
    a = p.parse_args(argv)
    try:
        paths = write_student_notebooks(a.only, a.out)
    except ValueError as exc:
        print(f"bad exercise cells: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        n = len(exercises(json.loads(path.read_text(encoding="utf-8"))))
        print(f"wrote {path} ({n} exercises)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
