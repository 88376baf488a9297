"""`make student`: student versions of the notebooks (solutions replaced by stubs that raise)."""
import json
from pathlib import Path

import nbformat
import pytest

from analysis_lib import student

ROOT = Path(__file__).resolve().parents[1]
WITH_EXERCISES = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb"))
                  if student.exercises(json.loads(p.read_text(encoding="utf-8")))]


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return json.loads(nbformat.writes(nb))


def _md(text, tags=()):
    c = nbformat.v4.new_markdown_cell(text)
    c.metadata["tags"] = list(tags)
    return c


def _code(text, tags=()):
    c = nbformat.v4.new_code_cell(text)
    c.metadata["tags"] = list(tags)
    return c


def test_student_version_replaces_only_the_solutions():
    nb = _nb(_code("x = 1"), _md("Do it", ["exercise"]), _code("# Hint: use x\nprint(x + 1)", ["solution"]), _code("y = 2"))
    out = student.student_version(nb)
    src = [student._source(c) for c in out["cells"]]
    assert src[0::3] == ["x = 1", "y = 2"]
    assert src[2].startswith("# Hint: use x\n") and "raise NotImplementedError" in src[2] and "print(x + 1)" not in src[2]
    assert student._source(nb["cells"][2]).endswith("print(x + 1)")


@pytest.mark.parametrize("cells, message", [
    ((_md("task", ["exercise"]), _code("x = 1")), "followed by a code cell tagged 'solution'"),
    ((_md("task", ["exercise"]), _code("x = 1", ["solution"])), "must start with '# Hint:"),
    ((_code("# Hint: h\nx", ["solution"]),), "must follow an 'exercise' cell"),
    ((_code("task", ["exercise"]),), "must be markdown"),
])
def test_malformed_exercises_are_clear_errors(cells, message):
    with pytest.raises(ValueError, match=message):
        student.exercises(_nb(*cells))


def test_every_paper_notebook_has_two_or_three_exercises():
    names = {p.stem for p in WITH_EXERCISES}
    assert names == {"01_gru_lstm_slow_modes", "02_gating_theory", "03_gated_neural_odes", "04_momentum_scaling",
                     "05_narrative_memory"}
    for path in WITH_EXERCISES:
        assert 2 <= len(student.exercises(json.loads(path.read_text(encoding="utf-8")))) <= 3, path.stem


def _setup_and_exercises(nb):
    """The set-up cells (up to the one that calls setup_notebook) and the Exercises section: what a
    student runs to work on the exercises (they use nothing else, by design)."""
    cells = nb["cells"]
    setup = next(i for i, c in enumerate(cells) if c["cell_type"] == "code" and "al.setup_notebook(" in "".join(c["source"]))
    first = student.exercises(nb)[0][0]
    start = max(i for i in range(first + 1) if cells[i]["cell_type"] == "markdown" and "".join(cells[i]["source"]).startswith("## Exercises"))
    return cells[: setup + 1] + cells[start:-1]


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_student_notebook_fails_only_in_its_exercise_cells(path, tmp_path):
    from nbclient import NotebookClient

    (out,) = student.write_student_notebooks([path.stem], out=tmp_path)
    nb = json.loads(out.read_text(encoding="utf-8"))
    instructor = json.loads(path.read_text(encoding="utf-8"))
    solutions = {j for _, j in student.exercises(instructor)}
    # outside the solution cells, the student notebook is the instructor's
    assert [c["source"] for i, c in enumerate(nb["cells"]) if i not in solutions] == \
           [c["source"] for i, c in enumerate(instructor["cells"]) if i not in solutions]
    # the exercises stand alone: run the set-up and the Exercises section of the student version
    part = nbformat.reads(json.dumps(dict(nb, cells=_setup_and_exercises(nb))), as_version=4)
    NotebookClient(part, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [(c.metadata.get("tags", []), o["ename"]) for c in part.cells if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert errors and all(tags == ["solution"] and ename == "NotImplementedError" for tags, ename in errors), errors
    assert len(errors) == len(solutions)
